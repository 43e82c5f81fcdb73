/**
 * The S3 side of backup copies: clients for Velero's primary location (from its
 * BackupStorageLocation and the AWS credentials file in its Secret) and for an off-site
 * BackupLocation (from its Secret's accessKeyId and secretAccessKey). vakt's own S3 calls go
 * through @aws-sdk/client-s3 only.
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { Json } from "../kube/client.ts";

/** A bucket and the key prefix vakt works under. */
export interface Bucket {
  readonly client: S3Client;
  readonly bucket: string;
  /** "" or a prefix ending in "/". */
  readonly prefix: string;
  /** For messages: s3://bucket/prefix at endpoint. */
  readonly describe: string;
}

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface S3Endpoint {
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly forcePathStyle: boolean;
}

export function s3Client(endpoint: S3Endpoint, credentials: S3Credentials): S3Client {
  return new S3Client({
    region: endpoint.region,
    ...(endpoint.endpoint === undefined ? {} : { endpoint: endpoint.endpoint }),
    forcePathStyle: endpoint.forcePathStyle,
    credentials,
    // Failures are retried by the copier (with backoff, per backup), not three times per call.
    maxAttempts: 2,
    // A streamed upload is sent in aws-chunked frames as the data arrives; S3 refuses frames under
    // 8 KiB but the last, and a response stream delivers what the socket had. Frames of 64 KiB.
    requestStreamBufferSize: 65_536,
  });
}

export function bucketOf(
  client: S3Client,
  bucket: string,
  prefix: string | undefined,
  endpoint?: string,
): Bucket {
  const normalized = prefix === undefined || prefix === "" ? "" : `${prefix.replace(/\/+$/, "")}/`;
  return {
    client,
    bucket,
    prefix: normalized,
    describe: `s3://${bucket}/${normalized}${endpoint === undefined ? "" : ` at ${endpoint}`}`,
  };
}

/** A bad or missing piece of configuration: what, where, and how to fix it. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * The credentials of one profile of an AWS shared credentials file (what Velero's AWS plugin
 * reads from the BackupStorageLocation's Secret).
 */
export function parseAwsCredentials(text: string, profile: string, where: string): S3Credentials {
  let current: string | undefined;
  const values = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (section !== null) {
      current = section[1];
      continue;
    }
    const pair = /^([A-Za-z_]+)\s*=\s*(.*)$/.exec(line);
    if (pair?.[1] !== undefined && pair[2] !== undefined && current === profile)
      values.set(pair[1].toLowerCase(), pair[2].trim());
  }
  const accessKeyId = values.get("aws_access_key_id");
  const secretAccessKey = values.get("aws_secret_access_key");
  if (accessKeyId === undefined || secretAccessKey === undefined)
    throw new ConfigError(
      `${where}: no aws_access_key_id and aws_secret_access_key in profile [${profile}]; write the credentials in the AWS shared credentials format, as Velero's AWS plugin reads them`,
    );
  return { accessKeyId, secretAccessKey };
}

/** The parts of a Velero BackupStorageLocation (provider aws) that locate its bucket. */
export interface VeleroLocation {
  readonly bucket: string;
  readonly prefix: string | undefined;
  readonly endpoint: S3Endpoint;
  /** The Secret (in Velero's namespace) and key holding an AWS credentials file. */
  readonly credential: { readonly name: string; readonly key: string } | undefined;
  readonly profile: string;
}

/** Reads a velero.io/v1 BackupStorageLocation; throws a ConfigError naming the field. */
export function parseVeleroLocation(object: Json): VeleroLocation {
  const metadata = (object["metadata"] ?? {}) as { namespace?: string; name?: string };
  const where = `BackupStorageLocation ${metadata.namespace ?? ""}/${metadata.name ?? ""}`;
  const spec = (object["spec"] ?? {}) as {
    provider?: string;
    objectStorage?: { bucket?: string; prefix?: string };
    config?: Record<string, string>;
    credential?: { name?: string; key?: string };
  };
  if (spec.provider !== "aws" && spec.provider !== "velero.io/aws")
    throw new ConfigError(
      `${where}: spec.provider is ${JSON.stringify(spec.provider)}; vakt copies from S3 locations (provider aws) only`,
    );
  const bucket = spec.objectStorage?.bucket;
  if (bucket === undefined || bucket === "")
    throw new ConfigError(`${where}: spec.objectStorage.bucket is missing`);
  const config = spec.config ?? {};
  const region = config["region"];
  if (region === undefined || region === "")
    throw new ConfigError(`${where}: spec.config.region is missing; set the bucket's region`);
  const name = spec.credential?.name;
  const key = spec.credential?.key;
  return {
    bucket,
    prefix: spec.objectStorage?.prefix,
    endpoint: {
      region,
      endpoint: config["s3Url"] === "" ? undefined : config["s3Url"],
      forcePathStyle: config["s3ForcePathStyle"] === "true",
    },
    credential: name !== undefined && key !== undefined ? { name, key } : undefined,
    profile: config["profile"] ?? "default",
  };
}
