/**
 * An append-only store of lines as bytes, back to back in large blocks, dropped from the front.
 * One allocation per megabyte instead of one per line, and the live lines of a block are one
 * contiguous range, so reading everything out is a handful of copies.
 */

/** Big enough that a block holds thousands of typical updates, small enough to free promptly. */
const BLOCK_BYTES = 1024 * 1024;
/** Dropped entries are trimmed off the index arrays now and then, not on every drop. */
const COMPACT_AFTER = 4096;

interface Block {
  bytes: Uint8Array;
  used: number;
}

export class Arena {
  private blocks: Block[] = [];
  /** Per entry (from `first` on): block number (absolute), offset in it, length without newline. */
  private block: number[] = [];
  private offset: number[] = [];
  private size: number[] = [];
  private first = 0;
  /** Absolute number of the first block still in `blocks`. */
  private firstBlock = 0;
  private total = 0;

  /** Live entries. */
  get length(): number {
    return this.size.length - this.first;
  }

  /** Bytes of the live entries, newlines included. */
  get bytes(): number {
    return this.total;
  }

  /** Appends one line; a newline is added after it. */
  push(line: Uint8Array): void {
    const need = line.length + 1;
    let last = this.blocks[this.blocks.length - 1];
    if (!last || last.bytes.length - last.used < need) {
      last = { bytes: new Uint8Array(Math.max(BLOCK_BYTES, need)), used: 0 };
      this.blocks.push(last);
    }
    last.bytes.set(line, last.used);
    last.bytes[last.used + line.length] = 0x0a;
    this.block.push(this.firstBlock + this.blocks.length - 1);
    this.offset.push(last.used);
    this.size.push(line.length);
    last.used += need;
    this.total += need;
  }

  /** Removes the newest entry (to store it again rewritten). */
  pop(): void {
    if (this.length === 0) return;
    const size = this.size.pop()! + 1;
    this.offset.pop();
    this.block.pop();
    this.blocks[this.blocks.length - 1]!.used -= size;
    this.total -= size;
  }

  /** Live entry i (0 is the oldest), without its newline. A view: copy it to keep it. */
  entry(i: number): Uint8Array {
    const k = this.first + i;
    const b = this.blocks[this.block[k]! - this.firstBlock]!;
    return b.bytes.subarray(this.offset[k]!, this.offset[k]! + this.size[k]!);
  }

  /** Drops the oldest n entries and frees the blocks nothing live uses any more. */
  drop(n: number): void {
    for (let i = 0; i < n && this.length > 0; i++) {
      this.total -= this.size[this.first]! + 1;
      this.first++;
    }
    const keepFrom =
      this.length > 0 ? this.block[this.first]! : this.firstBlock + this.blocks.length;
    if (keepFrom > this.firstBlock) {
      this.blocks = this.blocks.slice(keepFrom - this.firstBlock);
      this.firstBlock = keepFrom;
    }
    if (this.first > COMPACT_AFTER && this.first * 2 > this.size.length) {
      this.block = this.block.slice(this.first);
      this.offset = this.offset.slice(this.first);
      this.size = this.size.slice(this.first);
      this.first = 0;
    }
  }

  /** Views covering every live entry in order, newlines included. */
  ranges(): Uint8Array[] {
    if (this.length === 0) return [];
    const out: Uint8Array[] = [];
    const startBlock = this.block[this.first]! - this.firstBlock;
    for (let i = startBlock; i < this.blocks.length; i++) {
      const b = this.blocks[i]!;
      const from = i === startBlock ? this.offset[this.first]! : 0;
      if (b.used > from) out.push(b.bytes.subarray(from, b.used));
    }
    return out;
  }
}
