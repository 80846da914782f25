/**
 * Collects calls made within a few milliseconds of each other and runs them as one batch:
 * a burst of webhooks then costs a handful of database and Redis round trips instead of
 * several per delivery, and each caller still gets its own answer.
 */
export class MicroBatch<In, Out> {
  private pending: { input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly options: { maxSize: number; maxWaitMs: number },
  ) {}

  submit(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length >= this.options.maxSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.maxWaitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.run(batch.map((entry) => entry.input)).then(
      (outputs) => batch.forEach((entry, index) => entry.resolve(outputs[index]!)),
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    );
  }
}
