// Benchmark (a script, not a test): the throughput of vakt's off-site copy (src/backup/copier.ts:
// read, check the primary's checksum and gzip, SHA-256, put under COMPLIANCE retention with the
// checksum the server verifies, HEAD the new version back) against a raw `aws s3 cp`-style copy
// of the same objects through the same server (GetObject -> PutObject with the same SDK, the
// SDK's default checksum, no verification), in one run.
//
//   node bench/backup-copy.ts [--objects 6] [--mib 40] [--small 20] [--rounds 3]
//
// Starts versitygw (POSIX backend in a temp dir, scripts/build-backup-tools.sh builds it), puts a
// backup-shaped set of gzip objects (--objects of --mib MiB, copied in 16 MiB parts, and --small
// objects of 100 KiB) in a plain bucket, and copies it --rounds times each way into two off-site
// buckets with Object Lock and a COMPLIANCE default retention, alternating raw and vakt, four
// objects at a time both. Prints MiB/s of each round and the medians, and one more vakt pass over
// a copy already made (what a restart costs: every object found, nothing written).
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import type { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { copyBackup, listBackupObjects } from "../src/backup/copier.ts";
import { bucketOf } from "../src/backup/s3.ts";
import { createBackupBuckets, startS3 } from "../src/testing/s3.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`);
  return value;
}

const large = arg("objects", 6);
const mib = arg("mib", 40);
const small = arg("small", 20);
const rounds = Math.max(1, arg("rounds", 3));
const CONCURRENCY = 4;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

const server = await startS3(undefined);
try {
  const s3 = server.client();
  await createBackupBuckets(server, { primary: "velero", offsite: "offsite", retentionDays: 1 });
  await createBackupBuckets(server, { primary: "scratch", offsite: "raw-offsite", retentionDays: 1 });
  const primary = bucketOf(s3, "velero", undefined);

  // Incompressible content, gzip-framed as Velero's tarballs are (level 1: the bench measures the
  // copy, not the compressor).
  let total = 0;
  const put = async (key: string, bytes: number): Promise<void> => {
    const body = gzipSync(randomBytes(bytes), { level: 1 });
    total += body.length;
    await s3.send(new PutObjectCommand({ Bucket: "velero", Key: key, Body: body }));
  };
  for (let i = 0; i < large; i++) await put(`backups/bench/bench-${i}.tar.gz`, mib * 1024 * 1024);
  for (let i = 0; i < small; i++) await put(`backups/bench/bench-small-${i}.json.gz`, 100 * 1024);
  const objects = await listBackupObjects(primary, "bench");
  const totalMiB = total / 1024 / 1024;
  process.stdout.write(
    `backup-copy: ${objects.length} objects, ${totalMiB.toFixed(1)} MiB, ${CONCURRENCY} at a time, versitygw at ${server.endpoint}\n`,
  );

  const raw = async (round: number): Promise<number> => {
    const started = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let object = objects[next++]; object !== undefined; object = objects[next++]) {
        const got = await s3.send(new GetObjectCommand({ Bucket: "velero", Key: object.key }));
        await s3.send(
          new PutObjectCommand({
            Bucket: "raw-offsite",
            Key: `round-${round}/${object.key}`,
            Body: got.Body as Readable,
            ContentLength: object.size,
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return performance.now() - started;
  };
  const vakt = async (round: number): Promise<number> => {
    const started = performance.now();
    await copyBackup({
      primary,
      offsite: bucketOf(s3, "offsite", `round-${round}`),
      backup: "bench",
      retainUntil: new Date(Date.now() + 86_400_000),
      concurrency: CONCURRENCY,
    });
    return performance.now() - started;
  };

  const rawMs: number[] = [];
  const vaktMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    rawMs.push(await raw(round));
    vaktMs.push(await vakt(round));
    const r = rawMs.at(-1) ?? 0;
    const v = vaktMs.at(-1) ?? 0;
    process.stdout.write(
      `  round ${round + 1}: raw ${(totalMiB / (r / 1000)).toFixed(1)} MiB/s (${(r / 1000).toFixed(2)} s), vakt ${(totalMiB / (v / 1000)).toFixed(1)} MiB/s (${(v / 1000).toFixed(2)} s), load ${loadavg()[0]?.toFixed(1) ?? "?"}\n`,
    );
  }
  const again = performance.now();
  const result = await copyBackup({
    primary,
    offsite: bucketOf(s3, "offsite", "round-0"),
    backup: "bench",
    retainUntil: new Date(Date.now() + 86_400_000),
    concurrency: CONCURRENCY,
  });
  const againMs = performance.now() - again;
  const r = median(rawMs);
  const v = median(vaktMs);
  process.stdout.write(
    `median raw copy:  ${(totalMiB / (r / 1000)).toFixed(1)} MiB/s\n` +
      `median vakt copy: ${(totalMiB / (v / 1000)).toFixed(1)} MiB/s (${(v / r).toFixed(2)}x the raw copy's time; target within 2x)\n` +
      `vakt over a finished copy: ${(againMs / 1000).toFixed(2)} s, ${result.present} objects found, ${result.copied} copied\n`,
  );
} finally {
  await server.stop();
}
