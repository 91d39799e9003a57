// Sets of values under string keys, as the controllers' informer-side indexes
// keep them (pods by set, volumes by claim, dependents by owner). A key whose
// set empties is dropped, so the index never grows with churn.
const EMPTY: ReadonlySet<never> = new Set();

export class SetIndex<V = string> {
  private readonly sets = new Map<string, Set<V>>();

  add(key: string, value: V): void {
    let set = this.sets.get(key);
    if (!set) this.sets.set(key, (set = new Set()));
    set.add(value);
  }

  /** Removes `value` from `key`'s set; true when it was there. */
  delete(key: string, value: V): boolean {
    const set = this.sets.get(key);
    if (!set?.delete(value)) return false;
    if (set.size === 0) this.sets.delete(key);
    return true;
  }

  /** Adds or removes, as an informer handler knows whether the object is present. */
  set(key: string, value: V, present: boolean): void {
    if (present) this.add(key, value);
    else this.delete(key, value);
  }

  get(key: string): ReadonlySet<V> {
    return this.sets.get(key) ?? EMPTY;
  }
}
