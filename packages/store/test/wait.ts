/** Waits until `check()` holds, polling every 10 ms; fails naming `what` after `ms`. */
export async function until(check: () => boolean, what = 'changes', ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
