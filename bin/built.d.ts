/** See built.js. */
export function builtIsFresh(root: URL, env?: Record<string, string | undefined>): boolean;
