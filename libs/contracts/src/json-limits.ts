/**
 * Limits for free-form JSON that callers send (activity `properties`, any request body). Nesting
 * is measured without recursion, so a body nested thousands deep costs a loop, not a stack.
 */

/** How deep a request body may nest at all; no schema of trackme needs more than a few levels. */
export const MAX_BODY_DEPTH = 32;

/**
 * The path of the first value nested deeper than `maxDepth` (the value itself is depth 1, a
 * member of an object depth 2 …), or undefined when none is. Paths are dotted, like field names.
 */
export function pathDeeperThan(value: unknown, maxDepth: number): string | undefined {
  const pending: Array<[unknown, number, string]> = [[value, 1, '']];
  while (pending.length > 0) {
    const [next, depth, path] = pending.pop()!;
    if (next === null || typeof next !== 'object') continue;
    for (const [key, child] of Object.entries(next)) {
      const childPath = path ? `${path}.${key}` : key;
      if (child !== null && typeof child === 'object') {
        if (depth + 1 > maxDepth) return childPath;
        pending.push([child, depth + 1, childPath]);
      }
    }
  }
  return undefined;
}
