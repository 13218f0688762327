/**
 * PhysMem straight on a machine's physical bus, with no CPU and no MMU in between: for the
 * ports' unit tests, which build tables in emulated RAM and then check them the way the
 * hardware reads them (a hart's or CPU's walk, the firmware's tables). The kernel itself
 * reaches memory through its CPU (phys.ts).
 *
 * @module
 */

import type { Bus } from "../../emulator/core/bus.ts";
import type { PhysMem } from "../../kernel/mm/phys.ts";

/** PhysMem over `bus`; an access to an address with nothing there yields undefined data. */
export function busPhysMem(bus: Bus): PhysMem {
  return {
    read: (pa, size) => bus.read(pa, size)!,
    write: (pa, size, v) => void bus.write(pa, size, v),
    zero: (pa, n) => void bus.writeBytes(pa, new Uint8Array(n)),
    readBytes: (pa, n) => bus.readBytes(pa, n)!,
    writeBytes: (pa, b) => void bus.writeBytes(pa, b),
  };
}
