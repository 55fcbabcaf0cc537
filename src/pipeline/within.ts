// Waiting for something with a bound, without stopping it: drains, closes and revocations
// give a piece of work its share of a deadline and go on whether or not it has finished.

/** Whether `work` settled (either way) within `ms`; it goes on regardless. */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = work.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))))]);
  clearTimeout(timer);
  return result;
}
