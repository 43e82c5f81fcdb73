/**
 * The off-site copy of one Velero backup: every object under backups/<name>/ in Velero's bucket,
 * copied to the off-site bucket under Object Lock (COMPLIANCE, until a given date), each copy
 * verified, and a manifest written last.
 *
 * What is verified, per object (ADR 0026 says what this can and cannot detect):
 * - the bytes read from the primary match the checksum the primary stored when Velero wrote them
 *   (Velero's AWS plugin sends a CRC32; the SDK checks it on read when the server returns one);
 * - a gzip object (the backup tarball, logs, resource lists) decompresses with its own CRC32 and
 *   length intact: Velero writes nothing per object, but gzip carries a checksum of the original;
 * - the bytes written are the bytes read: the upload carries the SHA-256 of what was read, the
 *   server refuses a body that does not match it, and a HEAD of the new version returns it again.
 *
 * Resumable and idempotent: before copying, the off-site versions of the backup's keys are
 * listed; a version with the same size and the same SHA-256 (asked with HEAD) is the copy, and is
 * not written again. Under Object Lock a second copy would be a second locked version forever.
 * The manifest (metadata/vakt-copies/<backup>.json) is written only after every object is verified, so its
 * presence means "this backup's copy is complete".
 */
import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { CompletedPart } from "@aws-sdk/client-s3";
import type { Bucket } from "./s3.ts";

/**
 * Objects up to this size are streamed in one PUT (S3 takes up to 5 GiB in one); larger ones go in
 * parts of `partSize`, each held in memory while it is checked and sent.
 */
export const MULTIPART_THRESHOLD = 4 * 1024 * 1024 * 1024;
export const DEFAULT_PART_SIZE = 64 * 1024 * 1024;

export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** Under metadata/, a top-level directory Velero accepts (its location check refuses others) and leaves alone: a Velero location on the off-site bucket (the restore drill) must be Available. */
export const MANIFEST_DIR = "metadata/vakt-copies/";

export interface SourceObject {
  /** Relative to the primary location's prefix: backups/<backup>/<file>. */
  readonly key: string;
  readonly size: number;
}

export interface CopiedObject {
  readonly key: string;
  readonly size: number;
  /** SHA-256 of the content, hex; for objects copied in parts, of the whole content too. */
  readonly sha256: string;
  readonly versionId: string;
  /** copied now, or found already there (an earlier, interrupted run). */
  readonly action: "copied" | "present";
}

export interface CopyManifest {
  readonly backup: string;
  readonly source: string;
  readonly retainUntil: string;
  readonly completedAt: string;
  readonly objects: readonly CopiedObject[];
}

export type IntegrityProblem =
  /** The primary's bytes fail their own checks (stored checksum, gzip CRC): the backup is damaged. */
  | "corrupt"
  /** The upload or its read-back did not match what was read. */
  | "verify-failed";

/** A copy that must not be trusted, naming the backup and the object. Not retried. */
export class IntegrityError extends Error {
  readonly backup: string;
  readonly key: string;
  readonly problem: IntegrityProblem;
  constructor(backup: string, key: string, problem: IntegrityProblem, detail: string) {
    super(`backup ${backup}: ${key}: ${detail}`);
    this.name = "IntegrityError";
    this.backup = backup;
    this.key = key;
    this.problem = problem;
  }
}

export interface CopyOptions {
  readonly primary: Bucket;
  readonly offsite: Bucket;
  readonly backup: string;
  /** Every copied version is retained (COMPLIANCE) until then. */
  readonly retainUntil: Date;
  readonly partSize?: number;
  /** Objects larger than this go in parts (default MULTIPART_THRESHOLD). */
  readonly multipartThreshold?: number;
  /** Objects copied at once (default 4). */
  readonly concurrency?: number;
  /** Called after each object, for progress and metrics. */
  readonly onObject?: (object: CopiedObject) => void;
  /** Test seam: called before each object is copied (a crash mid-copy is a throw here). */
  readonly beforeObject?: (key: string) => void;
  /**
   * Called once every object is copied and verified, before the manifest marks the copy
   * complete: where the caller records it (a throw leaves the copy incomplete, to be resumed).
   */
  readonly beforeManifest?: (manifest: CopyManifest) => Promise<void>;
}

export interface CopyResult {
  readonly manifest: CopyManifest;
  readonly copied: number;
  readonly present: number;
  readonly bytes: number;
}

function base64ToHex(value: string): string {
  return Buffer.from(value, "base64").toString("hex");
}

/** The keys of a backup in Velero's bucket (backups/<backup>/...), relative to its prefix. */
export async function listBackupObjects(primary: Bucket, backup: string): Promise<SourceObject[]> {
  const objects: SourceObject[] = [];
  const prefix = `${primary.prefix}backups/${backup}/`;
  let token: string | undefined;
  do {
    const page = await primary.client.send(
      new ListObjectsV2Command({ Bucket: primary.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? [])
      if (object.Key !== undefined)
        objects.push({ key: object.Key.slice(primary.prefix.length), size: object.Size ?? 0 });
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return objects;
}

/** The manifest key of a backup in the off-site bucket. */
export function manifestKey(offsite: Bucket, backup: string): string {
  return `${offsite.prefix}${MANIFEST_DIR}${backup}.json`;
}

/** The manifest of a completed copy, or undefined when the copy is not complete. */
export async function readManifest(offsite: Bucket, backup: string): Promise<CopyManifest | undefined> {
  try {
    const response = await offsite.client.send(
      new GetObjectCommand({ Bucket: offsite.bucket, Key: manifestKey(offsite, backup) }),
    );
    return JSON.parse((await response.Body?.transformToString()) ?? "") as CopyManifest;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return (
    error.name === "NoSuchKey" ||
    error.name === "NotFound" ||
    error.name === "NoSuchVersion" ||
    status === 404
  );
}

/** Off-site versions (not delete markers) per key under the backup's prefix. */
async function offsiteVersions(
  offsite: Bucket,
  backup: string,
): Promise<Map<string, { versionId: string; size: number }[]>> {
  const versions = new Map<string, { versionId: string; size: number }[]>();
  const prefix = `${offsite.prefix}backups/${backup}/`;
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const page = await offsite.client.send(
      new ListObjectVersionsCommand({
        Bucket: offsite.bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionMarker,
      }),
    );
    for (const version of page.Versions ?? []) {
      if (version.Key === undefined || version.VersionId === undefined) continue;
      const key = version.Key.slice(offsite.prefix.length);
      const list = versions.get(key) ?? [];
      list.push({ versionId: version.VersionId, size: version.Size ?? 0 });
      versions.set(key, list);
    }
    if (page.IsTruncated !== true) break;
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
  }
  return versions;
}

/** The checksum (as the server reports it) and size of one off-site version. */
async function headVersion(
  offsite: Bucket,
  key: string,
  versionId: string,
): Promise<{ sha256: string | undefined; size: number }> {
  const head = await offsite.client.send(
    new HeadObjectCommand({
      Bucket: offsite.bucket,
      Key: offsite.prefix + key,
      VersionId: versionId,
      ChecksumMode: "ENABLED",
    }),
  );
  return {
    sha256: head.ChecksumSHA256,
    size: head.ContentLength ?? -1,
  };
}

/**
 * The retention of one off-site version. Asked with GetObjectRetention, not read from HEAD:
 * versitygw's HEAD of a version that is no longer the latest leaves the lock headers out.
 */
async function retentionOf(
  offsite: Bucket,
  key: string,
  versionId: string,
): Promise<{ mode: string | undefined; until: Date | undefined }> {
  try {
    const answer = await offsite.client.send(
      new GetObjectRetentionCommand({
        Bucket: offsite.bucket,
        Key: offsite.prefix + key,
        VersionId: versionId,
      }),
    );
    return { mode: answer.Retention?.Mode, until: answer.Retention?.RetainUntilDate };
  } catch (error) {
    if (error instanceof Error && /ObjectLockConfiguration/.test(error.name))
      return { mode: undefined, until: undefined };
    throw error;
  }
}

/**
 * Checks gzip data as it streams: decompresses and discards, so a flipped byte anywhere shows up
 * as a failed CRC32, a bad length or invalid deflate data.
 */
class GzipCheck {
  // Large output chunks: the output is thrown away, and fewer, larger ones cost less to make.
  readonly #gunzip = createGunzip({ chunkSize: 1024 * 1024 });
  #error: Error | undefined;
  readonly #done: Promise<void>;
  constructor() {
    this.#done = new Promise((resolve) => {
      this.#gunzip.on("data", () => undefined);
      this.#gunzip.once("error", (error) => {
        this.#error = error;
        resolve();
      });
      this.#gunzip.once("end", () => {
        resolve();
      });
    });
  }
  async update(chunk: Uint8Array): Promise<void> {
    if (this.#error !== undefined) return;
    // Wait for room; an error ends the stream (#done) instead of a drain.
    if (!this.#gunzip.write(chunk))
      await Promise.race([new Promise((resolve) => this.#gunzip.once("drain", resolve)), this.#done]);
  }
  /** Resolves to the problem, or undefined when the data is a whole, intact gzip stream. */
  async finish(): Promise<string | undefined> {
    this.#gunzip.end();
    await this.#done;
    return this.#error === undefined ? undefined : `gzip check failed: ${this.#error.message}`;
  }
}

/**
 * A response body with its errors handled. With checksum validation the SDK wraps the HTTP
 * response in a stream that, when destroyed early (an upload failed, a copy was aborted), lets go
 * of the response's error listener and destroys it: the response then emits "aborted" with no
 * listener, which would end the process. The caller learns of failures from the wrapper.
 */
function guarded(body: unknown): Readable {
  const stream = body as Readable & { source?: Readable };
  stream.on("error", () => undefined);
  stream.source?.on("error", () => undefined);
  return stream;
}

async function* chunksOf(body: Readable): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) yield chunk as Uint8Array;
}

/** Reads an object of the primary, yielding its bytes; the SDK checks a stored checksum at the end. */
async function readPrimary(primary: Bucket, key: string): Promise<AsyncGenerator<Uint8Array>> {
  const response = await primary.client.send(
    new GetObjectCommand({ Bucket: primary.bucket, Key: primary.prefix + key, ChecksumMode: "ENABLED" }),
  );
  if (response.Body === undefined) throw new Error(`${key}: the primary returned no body`);
  return chunksOf(guarded(response.Body));
}

interface Read {
  readonly sha256: string;
  readonly size: number;
}

/**
 * Checks a version just written: it exists, reads back with the size and checksum that were sent,
 * and is retained in COMPLIANCE mode until at least `retainUntil`.
 */
async function verifyWritten(
  options: CopyOptions,
  key: string,
  versionId: string | undefined,
  size: number,
  expected: string,
): Promise<void> {
  const { offsite, backup, retainUntil } = options;
  if (versionId === undefined || versionId === "")
    throw new IntegrityError(
      backup,
      key,
      "verify-failed",
      "the off-site bucket returned no version id: is versioning (Object Lock) on?",
    );
  const written = await headVersion(offsite, key, versionId);
  if (written.size !== size || written.sha256 !== expected)
    throw new IntegrityError(
      backup,
      key,
      "verify-failed",
      `the off-site copy reads back as ${written.size} bytes, SHA-256 ${written.sha256 ?? "(none)"}; ${size} bytes, ${expected} were written`,
    );
  const lockedAs = await retentionOf(offsite, key, versionId);
  if (lockedAs.mode !== "COMPLIANCE" || (lockedAs.until?.getTime() ?? 0) < retainUntil.getTime() - 1_000)
    throw new IntegrityError(
      backup,
      key,
      "verify-failed",
      `the off-site copy is not locked in COMPLIANCE mode until ${retainUntil.toISOString()} (${lockedAs.mode ?? "no lock"}, until ${lockedAs.until?.toISOString() ?? "never"})`,
    );
}

/**
 * One object in one streamed PUT (objects up to `multipartThreshold`): the bytes flow from the
 * primary through the checks to the off-site bucket, with the SHA-256 sent as a trailer the server
 * verifies. A check that fails at the end of the data (the primary's stored checksum, the gzip
 * CRC, the length) aborts the upload before its last bytes are sent, so no version is written.
 */
async function copyStreamed(
  options: CopyOptions,
  object: SourceObject,
): Promise<Read & { versionId: string }> {
  const { primary, offsite, backup, retainUntil } = options;
  const key = object.key;
  const gzip = key.endsWith(".gz") ? new GzipCheck() : undefined;
  const whole = createHash("sha256");
  let size = 0;
  let failure: unknown;
  const abort = new AbortController();
  const fail = (error: unknown): void => {
    failure ??= error;
    abort.abort();
  };
  const response = await primary.client.send(
    new GetObjectCommand({ Bucket: primary.bucket, Key: primary.prefix + key, ChecksumMode: "ENABLED" }),
  );
  if (response.Body === undefined) throw new Error(`${key}: the primary returned no body`);
  const source = guarded(response.Body);
  const checked = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      whole.update(chunk);
      if (gzip === undefined) callback(null, chunk);
      else
        gzip.update(chunk).then(
          () => {
            callback(null, chunk);
          },
          (error: unknown) => {
            fail(error);
          },
        );
    },
    flush(callback) {
      void (async (): Promise<void> => {
        const problem = await gzip?.finish();
        if (problem !== undefined) throw new IntegrityError(backup, key, "corrupt", problem);
        if (size !== object.size)
          throw new IntegrityError(
            backup,
            key,
            "corrupt",
            `listed as ${object.size} bytes in the primary, ${size} bytes read`,
          );
      })().then(
        () => {
          callback();
        },
        (error: unknown) => {
          // The data never ends: the upload is aborted, so no version is written.
          fail(error);
        },
      );
    },
  });
  source.on("error", (error) => {
    fail(primaryFailure(backup, key, error));
  });
  source.pipe(checked);
  let versionId: string | undefined;
  try {
    const put = await offsite.client.send(
      new PutObjectCommand({
        Bucket: offsite.bucket,
        Key: offsite.prefix + key,
        ObjectLockMode: "COMPLIANCE",
        ObjectLockRetainUntilDate: retainUntil,
        Body: checked,
        ContentLength: object.size,
        ChecksumAlgorithm: "SHA256",
      }),
      { abortSignal: abort.signal },
    );
    versionId = put.VersionId;
  } catch (error) {
    if (failure instanceof Error) throw failure;
    throw error;
  } finally {
    source.destroy();
  }
  if (failure instanceof Error) throw failure;
  const sha256 = whole.digest("hex");
  await verifyWritten(options, key, versionId, size, Buffer.from(sha256, "hex").toString("base64"));
  return { sha256, size, versionId: versionId ?? "" };
}

/** A read of the primary that failed: damage when the primary's own checksum disagrees, else an outage. */
function primaryFailure(backup: string, key: string, error: unknown): unknown {
  if (
    error instanceof Error &&
    /checksum/i.test(error.message) &&
    !/credential|signature/i.test(error.message)
  )
    return new IntegrityError(
      backup,
      key,
      "corrupt",
      `the primary's bytes do not match the checksum it stored at upload (${error.message})`,
    );
  return error;
}

/**
 * Streams one object from the primary to the off-site bucket, verifying as described above.
 * Returns the new version's id and what was read.
 */
async function copyOne(options: CopyOptions, object: SourceObject): Promise<Read & { versionId: string }> {
  if (object.size <= (options.multipartThreshold ?? MULTIPART_THRESHOLD))
    return copyStreamed(options, object);
  const { primary, offsite, backup, retainUntil } = options;
  // S3 refuses parts under 5 MiB (but the last).
  const partSize = Math.max(options.partSize ?? DEFAULT_PART_SIZE, MIN_PART_SIZE);
  const key = object.key;
  const gzip = key.endsWith(".gz") ? new GzipCheck() : undefined;
  const whole = createHash("sha256");
  const lock = { ObjectLockMode: "COMPLIANCE" as const, ObjectLockRetainUntilDate: retainUntil };
  const target = { Bucket: offsite.bucket, Key: offsite.prefix + key };
  let size = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let upload: { id: string; parts: CompletedPart[]; digests: Buffer[] } | undefined;

  const corrupt = (detail: string): IntegrityError => new IntegrityError(backup, key, "corrupt", detail);
  const flushPart = async (): Promise<void> => {
    const body = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    if (upload === undefined) {
      const created = await offsite.client.send(
        new CreateMultipartUploadCommand({ ...target, ...lock, ChecksumAlgorithm: "SHA256" }),
      );
      if (created.UploadId === undefined)
        throw new Error(`${key}: the off-site bucket returned no upload id`);
      upload = { id: created.UploadId, parts: [], digests: [] };
    }
    const digest = createHash("sha256").update(body).digest();
    const partNumber = upload.parts.length + 1;
    const part = await offsite.client.send(
      new UploadPartCommand({
        ...target,
        UploadId: upload.id,
        PartNumber: partNumber,
        Body: body,
        ContentLength: body.length,
        ChecksumSHA256: digest.toString("base64"),
      }),
    );
    upload.parts.push({ PartNumber: partNumber, ETag: part.ETag, ChecksumSHA256: digest.toString("base64") });
    upload.digests.push(digest);
  };

  try {
    try {
      for await (const chunk of await readPrimary(primary, key)) {
        size += chunk.length;
        whole.update(chunk);
        await gzip?.update(chunk);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= partSize) await flushPart();
      }
    } catch (error) {
      throw primaryFailure(backup, key, error);
    }
    const problem = await gzip?.finish();
    if (problem !== undefined) throw corrupt(problem);
    if (size !== object.size)
      throw corrupt(`listed as ${object.size} bytes in the primary, ${size} bytes read`);
    const sha256 = whole.digest("hex");

    let versionId: string | undefined;
    let expected: string;
    if (upload === undefined) {
      const body = Buffer.concat(pending, pendingBytes);
      expected = Buffer.from(sha256, "hex").toString("base64");
      const put = await offsite.client.send(
        new PutObjectCommand({
          ...target,
          ...lock,
          Body: body,
          ContentLength: body.length,
          ChecksumSHA256: expected,
        }),
      );
      versionId = put.VersionId;
    } else {
      if (pendingBytes > 0) await flushPart();
      const done = await offsite.client.send(
        new CompleteMultipartUploadCommand({
          ...target,
          UploadId: upload.id,
          MultipartUpload: { Parts: upload.parts },
        }),
      );
      versionId = done.VersionId;
      // The checksum of a multipart object is the SHA-256 of its parts' SHA-256s, with the count.
      expected = `${createHash("sha256").update(Buffer.concat(upload.digests)).digest("base64")}-${upload.parts.length}`;
      upload = undefined;
    }
    await verifyWritten(options, key, versionId, size, expected);
    return { sha256, size, versionId: versionId ?? "" };
  } finally {
    if (upload !== undefined) {
      const id = upload.id;
      await offsite.client
        .send(new AbortMultipartUploadCommand({ ...target, UploadId: id }))
        .catch(() => undefined);
    }
  }
}

/** The SHA-256 (hex) of a primary object, read whole (used only to match an existing copy). */
async function hashPrimary(primary: Bucket, key: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of await readPrimary(primary, key)) hash.update(chunk);
  return hash.digest("hex");
}

/** The existing off-site version holding exactly this object, if any. */
async function findCopy(
  options: CopyOptions,
  object: SourceObject,
  candidates: readonly { versionId: string; size: number }[],
): Promise<CopiedObject | undefined> {
  const sameSize = candidates.filter((candidate) => candidate.size === object.size);
  if (sameSize.length === 0) return undefined;
  const sha256 = await hashPrimary(options.primary, object.key);
  for (const candidate of sameSize) {
    const head = await headVersion(options.offsite, object.key, candidate.versionId);
    if (head.sha256 === undefined) continue;
    // A whole-object checksum compares directly; one of parts is checked against its content
    // by re-reading the version (rare: only large objects of an interrupted run).
    const matches = head.sha256.includes("-")
      ? (await hashOffsite(options.offsite, object.key, candidate.versionId)) === sha256
      : base64ToHex(head.sha256) === sha256;
    if (matches)
      return {
        key: object.key,
        size: object.size,
        sha256,
        versionId: candidate.versionId,
        action: "present",
      };
  }
  return undefined;
}

async function hashOffsite(offsite: Bucket, key: string, versionId: string): Promise<string> {
  const response = await offsite.client.send(
    new GetObjectCommand({ Bucket: offsite.bucket, Key: offsite.prefix + key, VersionId: versionId }),
  );
  const hash = createHash("sha256");
  if (response.Body !== undefined)
    for await (const chunk of chunksOf(guarded(response.Body))) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * Copies one backup (see the module comment). Throws IntegrityError for a copy that must not be
 * trusted; any other error (the S3 server down, credentials refused) is for the caller to retry,
 * and a retry continues where this one stopped.
 */
export async function copyBackup(options: CopyOptions): Promise<CopyResult> {
  const { primary, offsite, backup } = options;
  const objects = await listBackupObjects(primary, backup);
  if (objects.length === 0)
    throw new Error(
      `backup ${backup}: no objects under ${primary.describe}backups/${backup}/ (not uploaded yet, or deleted)`,
    );
  const existing = await offsiteVersions(offsite, backup);
  const results: CopiedObject[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let object = objects[next++]; object !== undefined; object = objects[next++]) {
      options.beforeObject?.(object.key);
      let result = await findCopy(options, object, existing.get(object.key) ?? []);
      if (result === undefined) {
        const copied = await copyOne(options, object);
        result = {
          key: object.key,
          size: copied.size,
          sha256: copied.sha256,
          versionId: copied.versionId,
          action: "copied",
        };
      }
      results.push(result);
      options.onObject?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  results.sort((a, b) => a.key.localeCompare(b.key));
  const manifest: CopyManifest = {
    backup,
    source: primary.describe,
    retainUntil: options.retainUntil.toISOString(),
    completedAt: new Date().toISOString(),
    objects: results,
  };
  await options.beforeManifest?.(manifest);
  const body = Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`);
  await offsite.client.send(
    new PutObjectCommand({
      Bucket: offsite.bucket,
      Key: manifestKey(offsite, backup),
      Body: body,
      ContentType: "application/json",
      ChecksumSHA256: createHash("sha256").update(body).digest("base64"),
      ObjectLockMode: "COMPLIANCE",
      ObjectLockRetainUntilDate: options.retainUntil,
    }),
  );
  const copied = results.filter((result) => result.action === "copied");
  return {
    manifest,
    copied: copied.length,
    present: results.length - copied.length,
    bytes: copied.reduce((sum, result) => sum + result.size, 0),
  };
}

/**
 * Checks that every version a manifest names is still there, unchanged: the SHA-256 and size the
 * off-site bucket reports for it are those recorded, and it is still under COMPLIANCE retention.
 * Returns what is wrong (empty when the copy stands). A delete marker or a newer version on top
 * does not matter: the recorded version is the copy.
 */
export async function verifyCopy(offsite: Bucket, manifest: CopyManifest): Promise<string[]> {
  const problems: string[] = [];
  for (const object of manifest.objects) {
    try {
      const head = await headVersion(offsite, object.key, object.versionId);
      const sha256 =
        head.sha256 === undefined || head.sha256.includes("-") ? undefined : base64ToHex(head.sha256);
      if (head.size !== object.size || (sha256 !== undefined && sha256 !== object.sha256))
        problems.push(
          `${object.key} version ${object.versionId} changed: ${head.size} bytes, SHA-256 ${sha256 ?? "(not reported)"}`,
        );
      const lockedAs = await retentionOf(offsite, object.key, object.versionId);
      if (
        lockedAs.mode !== "COMPLIANCE" ||
        (lockedAs.until?.getTime() ?? 0) < Date.parse(manifest.retainUntil) - 1_000
      )
        problems.push(
          `${object.key} version ${object.versionId} is no longer under COMPLIANCE retention until ${manifest.retainUntil}`,
        );
    } catch (error) {
      if (!isNotFound(error)) throw error;
      problems.push(`${object.key} version ${object.versionId} is gone`);
    }
  }
  return problems;
}
