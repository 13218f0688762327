/**
 * What the architecture-neutral loader needs of an address space: map a user page with
 * permissions, and find where a page is mapped. Each architecture's port implements it
 * with its own page-table format (Sv48 on RISC-V, 4-level paging on x86-64), writing the
 * tables into guest RAM where the MMU reads them.
 *
 * @module
 */

/** The permissions of a user page. */
export interface PagePerms {
  /** Readable. */
  read: boolean;
  /** Writable. */
  write: boolean;
  /** Executable. */
  execute: boolean;
}

/** A user address space under construction. */
export interface AddressSpace {
  /** Maps the page at `va` (page-aligned) to the frame at `pa`, for user mode, with `perms`. */
  map(va: number, pa: number, perms: PagePerms): void;
  /** The frame and permissions `va`'s page is mapped to, if it is. */
  lookup(va: number): { pa: number; perms: PagePerms } | undefined;
}
