/**
 * Loading a static ELF executable into a fresh user address space, as Linux's
 * `load_elf_binary` does for a static program: every PT_LOAD segment is mapped page by
 * page with its permissions, its file bytes copied in, the rest of its memory left zero.
 * Architecture-neutral: the page tables are the port's business (see address_space.ts).
 *
 * @module
 */

import type { Bus } from "../../emulator/core/bus.ts";
import { hex } from "../../emulator/core/memory.ts";
import { type ElfImage, PF_R, PF_W, PF_X } from "../../emulator/asm/elf.ts";
import type { AddressSpace, PagePerms } from "./address_space.ts";
import { type FrameAllocator, PAGE_SIZE } from "./frames.ts";

/** The permissions of a segment's pages. */
export function segmentPerms(flags: number): PagePerms {
  return { read: (flags & PF_R) !== 0, write: (flags & PF_W) !== 0, execute: (flags & PF_X) !== 0 };
}

/**
 * Maps and fills every PT_LOAD segment of `image`. Pages two segments share get the
 * union of their permissions (as when a linker packs text and data into one page).
 * Returns the first address after the highest segment, page-aligned: where a heap
 * (`brk`) would start.
 */
export function loadSegments(
  image: ElfImage,
  space: AddressSpace,
  frames: FrameAllocator,
  bus: Bus,
): number {
  let end = 0;
  for (const seg of image.segments) {
    const perms = segmentPerms(seg.flags);
    const first = Math.floor(seg.vaddr / PAGE_SIZE) * PAGE_SIZE;
    const last = seg.vaddr + seg.memsz;
    for (let page = first; page < last; page += PAGE_SIZE) {
      const old = space.lookup(page);
      const pa = old?.pa ?? frames.allocate();
      space.map(page, pa, old ? union(old.perms, perms) : perms);
      // The part of the segment's file bytes that falls in this page.
      const from = Math.max(page, seg.vaddr),
        to = Math.min(page + PAGE_SIZE, seg.vaddr + seg.data.length);
      if (to > from) {
        const bytes = seg.data.subarray(from - seg.vaddr, to - seg.vaddr);
        if (!bus.writeBytes(pa + (from - page), bytes)) {
          throw new RangeError(`loader: frame ${hex(pa)} is not RAM`);
        }
      }
    }
    end = Math.max(end, Math.ceil(last / PAGE_SIZE) * PAGE_SIZE);
  }
  return end;
}

function union(a: PagePerms, b: PagePerms): PagePerms {
  return { read: a.read || b.read, write: a.write || b.write, execute: a.execute || b.execute };
}

/** Maps `size` bytes of fresh zeroed read-write pages ending at `top` (a stack). */
export function mapZeroed(
  space: AddressSpace,
  frames: FrameAllocator,
  top: number,
  size: number,
): void {
  for (let page = top - size; page < top; page += PAGE_SIZE) {
    space.map(page, frames.allocate(), { read: true, write: true, execute: false });
  }
}
