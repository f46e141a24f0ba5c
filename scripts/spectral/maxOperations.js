// Spectral function: fails when a `paths` object holds more than `max` operations.
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

export default function maxOperations(paths, options) {
  let count = 0;
  for (const item of Object.values(paths ?? {})) {
    for (const method of METHODS) if (item && typeof item === "object" && method in item) count += 1;
  }
  return count > options.max ? [{ message: `${count} operations: at most ${options.max} are allowed` }] : [];
}
