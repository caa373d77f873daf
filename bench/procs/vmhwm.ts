/** The peak resident set of this process: VmHWM of /proc/self/status, in bytes. @module */
export function peakResidentBytes(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kib = status.match(/^VmHWM:\s+(\d+) kB/m);
  if (!kib) throw new Error("no VmHWM in /proc/self/status");
  return Number(kib[1]) * 1024;
}
