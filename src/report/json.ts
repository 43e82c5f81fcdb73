/**
 * `vakt report -o json`: the model for machines, under a version. Adding keys is compatible;
 * renaming or removing one needs version 2. Pure.
 */
import type { ReportModel } from "./model.ts";

export const REPORT_JSON_VERSION = 1;

export function renderJson(model: ReportModel): string {
  return JSON.stringify({ version: REPORT_JSON_VERSION, ...model }, null, 2) + "\n";
}
