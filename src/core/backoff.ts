/**
 * Exponential backoff with jitter for work lost to the infrastructure (an expired lease, a provider
 * that was down): attempt n waits between half and all of `base · 2^(n-1)`, capped. The jitter keeps
 * many runs that failed together from coming back together.
 */
export function backoffSeconds(
  attempt: number,
  baseSeconds: number,
  capSeconds = 300,
  random = Math.random,
): number {
  const ceiling = Math.min(capSeconds, baseSeconds * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}
