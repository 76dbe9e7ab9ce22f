// Small async locks for the writer: one queue per key (so that this replica never races
// itself on a key) and a shared/exclusive gate (a multi-key write waits until this
// replica's single-key writes in flight are applied, and holds new ones back meanwhile).

/** Serialises holders per key. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async lock(key: string): Promise<() => void> {
    const prev = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev ? prev.then(() => mine) : mine;
    this.tails.set(key, tail);
    if (prev) await prev;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }

  get size(): number {
    return this.tails.size;
  }
}

/** Many shared holders or one exclusive holder; a waiting exclusive holder goes first. */
export class SharedExclusiveGate {
  private shared = 0;
  private exclusive = false;
  private readonly waiting: { exclusive: boolean; grant: () => void }[] = [];

  acquire(exclusive: boolean): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        if (exclusive) this.exclusive = true;
        else this.shared++;
        resolve(() => this.release(exclusive));
      };
      if (this.canGrant(exclusive) && this.waiting.length === 0) grant();
      else this.waiting.push({ exclusive, grant });
    });
  }

  private canGrant(exclusive: boolean): boolean {
    return exclusive ? !this.exclusive && this.shared === 0 : !this.exclusive;
  }

  private release(exclusive: boolean): void {
    if (exclusive) this.exclusive = false;
    else this.shared--;
    while (this.waiting.length > 0 && this.canGrant(this.waiting[0].exclusive)) {
      const w = this.waiting.shift()!;
      w.grant();
      if (w.exclusive) break;
    }
  }
}
