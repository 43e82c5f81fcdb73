/**
 * Validation of vakt's OSCAL output against NIST's OSCAL 1.1.3 "complete" JSON schema, for tests.
 * The schema has no package or module to fetch it from here; its one copy is the shared folder
 * beside the repository (../shared/schemas/oscal/, see its README), which scripts/setup.sh also
 * copies into the cache (setting oscal-schema-dir) so that a clone placed elsewhere finds it.
 * Without either, the tests that need it fail and say where to put it.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { setting } from "../config/settings.ts";

const FILE = "oscal_complete_schema-1-1-3.json";
const SHARED = join(import.meta.dirname, "..", "..", "..", "shared", "schemas", "oscal", FILE);

/** Where the schema is: the shared folder beside the clone, else the cache setup.sh fills. */
export function oscalSchemaPath(): string {
  const cached = join(setting("oscalSchemaDir"), FILE);
  const found = [SHARED, cached].find((path) => existsSync(path));
  assert.ok(
    found !== undefined,
    `NIST's OSCAL schema ${FILE} is in neither ${SHARED} nor ${cached}: run scripts/setup.sh from a clone that has the shared folder beside it (it fills the cache), or set VAKT_OSCAL_SCHEMA_DIR to a directory holding the file`,
  );
  return found;
}

/** A function that returns the schema's complaints about a document (none: valid). */
export function oscalValidator(): (document: unknown) => string[] {
  const schema = JSON.parse(readFileSync(oscalSchemaPath(), "utf8")) as Record<string, unknown>;
  assert.equal(schema["$id"], "http://csrc.nist.gov/ns/oscal/1.0/1.1.3/oscal-complete-schema.json");
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormatsModule.default(ajv);
  const validate = ajv.compile(schema);
  return (document) =>
    validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
}
