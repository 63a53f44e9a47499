/**
 * Resolves in a new task of the event loop (after `setImmediate`). A build whose file system calls
 * are synchronous would otherwise never leave the task it started in, and V8 keeps the target of
 * every WeakRef made or read in a task until that task ends (`src/model/served-releases.ts` holds
 * a site's model by one), so a run of many sites would keep every site's nodes to its end.
 */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
