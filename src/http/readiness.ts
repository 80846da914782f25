/** Runs every probe at once, each bounded by `timeoutMs`: null for one that answered, else why not. */
export async function probeAll<K extends string>(
  probes: Record<K, () => Promise<unknown>>,
  timeoutMs: number,
): Promise<Record<K, string | null>> {
  const check = async (probe: () => Promise<unknown>): Promise<string | null> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([probe(), timeout]);
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
    }
  };
  const names = Object.keys(probes) as K[];
  const results = await Promise.all(names.map((name) => check(probes[name])));
  return Object.fromEntries(names.map((name, index) => [name, results[index]])) as Record<K, string | null>;
}
