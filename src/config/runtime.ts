/**
 * Node flags for the long-running `vakt run` process, wherever it is started: the Deployment of
 * `vakt install` (as NODE_OPTIONS), the local control plane of `vakt dev up`, and the Tenant
 * benchmark. One list, so what is measured is what ships.
 *
 * `--max-semi-space-size=16`: V8 sizes the young generation from the machine's memory (64 MB
 * semispaces, 128 MB committed, on a 24 GiB host) and grows it to that maximum during a burst of
 * work such as 1,000 Tenants converging. The controller's live heap stays near 60 MB; capping the
 * semispaces at 16 MB took its peak RSS from 287-295 MB to 205-219 MB on the same benchmark
 * (docs/benchmarks.md, "Tenant controller"; ADR 0007).
 */
export const RUN_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=16"];
