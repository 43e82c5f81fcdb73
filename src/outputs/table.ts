/**
 * A plain-text table as `kubectl get` prints one: columns padded to their widest cell, two spaces
 * apart, the last column unpadded, one line per row after the header.
 *
 *   textTable(["NAME", "PHASE"], [["dev-1", "Ready"]])  // "NAME   PHASE\ndev-1  Ready\n"
 */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (values: readonly string[]): string =>
    values
      .map((value, column) => (column === values.length - 1 ? value : value.padEnd(widths[column] ?? 0)))
      .join("  ");
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}
