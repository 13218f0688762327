import assert from "node:assert/strict";
import { type ComponentSlot, exercise, kernelComponentsOf } from "./define.ts";

const slot = (over: Partial<ComponentSlot<unknown>>): ComponentSlot<unknown> => ({
  interface: "Thing",
  exercise: exercise("exercise/thing.ts", "thing"),
  reference: () => 0,
  ...over,
});

Deno.test("define: components fill their kernel field, or an entry of a record field", () => {
  const pmm = () => 1, sv48 = () => 2, x86 = () => 3, reader = () => 4;
  const components = kernelComponentsOf(
    {
      pmm: slot({ kernelKey: "pmm" }),
      sv48: slot({ kernelKey: "pageTables", kernelEntry: "sv48" }),
      x86: slot({ kernelKey: "pageTables", kernelEntry: "x86_64" }),
      reader: slot({}),
    },
    { pmm, sv48, x86, reader },
  );
  assert.deepEqual(Object.keys(components).sort(), ["pageTables", "pmm"]);
  assert.equal(components.pmm, pmm);
  assert.deepEqual(components.pageTables, { sv48, x86_64: x86 });
});

Deno.test("define: a component not loaded fills nothing", () => {
  const components = kernelComponentsOf(
    { sv48: slot({ kernelKey: "pageTables", kernelEntry: "sv48" }) },
    {},
  );
  assert.deepEqual(components, {});
});
