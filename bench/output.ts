/**
 * Time of `vakt check -o FORMAT` for each output format on corpora of growing size, written to
 * /dev/null and through a pipe to a reader (`wc -c`): does every format stay linear, and does
 * writing into a pipe (with backpressure) cost more than into a file?
 *
 *   node bench/output.ts [--objects 10000,50000,100000] [--formats json,sarif,junit,text] [--keep]
 *
 * (Node >= 24: `node_modules/.bin/node bench/output.ts` when the system node is older.)
 *
 * Every run is a fresh process of the CLI (src/cli/main.ts) with the corpus's vakt.yaml, wrapped
 * in `/usr/bin/time -f "%e %M"` for wall seconds and peak RSS; exit code 1 (findings) is the
 * expected outcome, anything else is reported. Prints a table; run it on a quiet machine.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeCorpus } from "./corpus.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const MAIN = join(ROOT, "src", "cli", "main.ts");

interface Options {
  readonly objects: readonly number[];
  readonly formats: readonly string[];
  readonly keep: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  let objects = [10_000, 50_000, 100_000];
  let formats = ["json", "sarif", "junit", "text"];
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const list = (): string[] => (argv[++i] ?? "").split(",").filter((item) => item !== "");
    if (flag === "--objects") objects = list().map(Number);
    else if (flag === "--formats") formats = list();
    else if (flag === "--keep") keep = true;
    else throw new Error(`unknown flag ${String(flag)}: use --objects N,N --formats F,F --keep`);
  }
  if (objects.some((count) => !Number.isInteger(count) || count < 1))
    throw new Error("--objects takes whole numbers, comma-separated");
  return { objects, formats, keep };
}

interface Measure {
  readonly seconds: number;
  readonly rssMiB: number;
  readonly stderr: string;
}

/** Runs `sh -c command` under GNU time; the time figures go to a file of their own. */
function measure(command: string, cwd: string): Measure {
  const timeFile = join(cwd, "time.txt");
  const result = spawnSync("/usr/bin/time", ["-o", timeFile, "-f", "%e %M", "sh", "-c", command], {
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  const times = spawnSync("cat", [timeFile], { encoding: "utf8" }).stdout.trim().split(/\s+/);
  return {
    seconds: Number(times[0]),
    rssMiB: Number(times[1]) / 1024,
    stderr: result.stderr.trim(),
  };
}

function main(): void {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync("/usr/bin/time")) throw new Error("needs GNU time at /usr/bin/time");
  const node = process.execPath;
  const rows: string[] = [
    "| objects | format | output bytes | /dev/null s | /dev/null RSS MiB | pipe s | pipe RSS MiB |",
    "|---:|---|---:|---:|---:|---:|---:|",
  ];
  for (const count of options.objects) {
    const dir = mkdtempSync(join(tmpdir(), "vakt-bench-output-"));
    try {
      writeCorpus(dir, { objects: count });
      for (const format of options.formats) {
        const check = `"${node}" "${MAIN}" check -c vakt.yaml -o ${format} manifests`;
        const read = (name: string): string =>
          spawnSync("cat", [join(dir, name)], { encoding: "utf8" }).stdout.trim();
        const file = measure(`${check} > /dev/null; echo $? > file-code.txt`, dir);
        const pipe = measure(`{ ${check}; echo $? > pipe-code.txt; } | wc -c > bytes.txt`, dir);
        const bytes = read("bytes.txt");
        for (const [label, run, code] of [
          ["/dev/null", file, read("file-code.txt")],
          ["pipe", pipe, read("pipe-code.txt")],
        ] as const) {
          if (code !== "1") process.stderr.write(`${format} ${label}: exit ${code}, expected 1 (findings)\n`);
          if (run.stderr !== "") process.stderr.write(`${format} ${label}: ${run.stderr}\n`);
        }
        rows.push(
          `| ${count} | ${format} | ${bytes} | ${file.seconds.toFixed(2)} | ${file.rssMiB.toFixed(0)} | ` +
            `${pipe.seconds.toFixed(2)} | ${pipe.rssMiB.toFixed(0)} |`,
        );
        process.stderr.write(`${rows.at(-1) ?? ""}\n`);
      }
    } finally {
      if (options.keep) process.stderr.write(`corpus kept in ${dir}\n`);
      else rmSync(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write(`${rows.join("\n")}\n`);
}

main();
