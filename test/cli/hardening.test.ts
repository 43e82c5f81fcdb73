/**
 * `vakt check`, `render` and `run` against inputs and outputs that broke them: endless inputs
 * (/dev/zero), outputs that fail or close early, slow readers, empty inputs, names that carry
 * control characters, and SARIF's account of failed inputs and exceptions.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { IN_A_MONTH, MAIN, parseJsonReport, removeDir, runVakt, tempDir, writeFiles } from "./helpers.ts";

/** A Pod with a privileged container (findings from several rules), `count` times as documents. */
function privilegedPods(count: number): string {
  return Array.from(
    { length: count },
    (_, i) => `apiVersion: v1
kind: Pod
metadata:
  name: debug-${String(i)}
  namespace: shop
spec:
  containers:
    - name: app
      image: nginx:latest
      securityContext:
        privileged: true
`,
  ).join("---\n");
}

/** Runs vakt with its stdout on a pipe this test reads through `read`; resolves with code and stderr. */
function runPiped(
  args: readonly string[],
  cwd: string,
  read: (stdout: NodeJS.ReadableStream) => Promise<void>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd,
      env: { NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", fail);
    const reading = read(child.stdout);
    child.on("close", (code) => {
      reading.then(() => {
        done({ code, stderr });
      }, fail);
    });
  });
}

describe("vakt on endless, failing and empty inputs and outputs", { concurrency: true }, () => {
  let dir = "";
  const large = 3000;

  before(async () => {
    dir = await tempDir();
    await writeFiles(dir, {
      "large.yaml": privilegedPods(large),
      "empty.yaml": "",
      "one.yaml": privilegedPods(1),
      "forged.yaml": privilegedPods(1).replace(
        "namespace: shop",
        'namespace: "shop\\nforged.yaml:1:1  DENY  forged-rule  Pod/x\\u2028\\e[2J\\r"',
      ),
      "exception.yaml": `apiVersion: vakt.dev/v1alpha1
kind: PolicyException
metadata:
  name: allow-debug
  namespace: shop
spec:
  rules: [pss-privileged]
  match:
    kinds: [Pod]
    names: ["debug-*"]
  justification: "debug pods run on an isolated node pool, reviewed weekly"
  approvedBy: ciso@example.com
  expires: "${IN_A_MONTH}"
`,
      "broken.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [broken\n",
    });
  });

  after(async () => {
    await removeDir(dir);
  });

  // Before the limits these read until the process was killed (17 GB): the timeout fails them.
  it("stops at the size limit of a configuration, a Tenant file and stdin for render read from /dev/zero", async () => {
    const zero = openSync("/dev/zero", "r");
    try {
      const [config, render, renderStdin] = await Promise.all([
        runVakt(["check", "-c", "/dev/zero", "one.yaml"], { cwd: dir, timeoutMs: 15_000 }),
        runVakt(["render", "/dev/zero"], { cwd: dir, timeoutMs: 15_000 }),
        runVakt(["render", "-"], { cwd: dir, timeoutMs: 15_000, stdinFd: zero }),
      ]);
      assert.equal(config.code, 2, config.stderr);
      assert.match(
        config.stderr,
        /^vakt: cannot read the configuration \/dev\/zero: it is over the 4 MiB limit/,
      );
      assert.equal(render.code, 2, render.stderr);
      assert.match(
        render.stderr,
        /^vakt: cannot read the Tenant file \/dev\/zero: it is over the 16 MiB limit/,
      );
      assert.equal(renderStdin.code, 2, renderStdin.stderr);
      assert.match(renderStdin.stderr, /^vakt: cannot read the Tenant file standard input: it is over/);
      for (const result of [config, render, renderStdin]) {
        assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
        assert.equal(result.stdout, "");
      }
    } finally {
      closeSync(zero);
    }
  });

  it("vakt run: a missing, endless or unusable kubeconfig is one line and exit 2", async () => {
    const results = await Promise.all(
      ["/nonexistent/kubeconfig", "/dev/zero", "empty.yaml", "broken.yaml"].map((file) =>
        runVakt(["run", "--kubeconfig", file], { cwd: dir, timeoutMs: 15_000 }),
      ),
    );
    const [missing, endless, empty, broken] = results;
    assert.match(
      missing?.stderr ?? "",
      /^vakt: cannot read the kubeconfig \/nonexistent\/kubeconfig: no such file/,
    );
    assert.match(
      endless?.stderr ?? "",
      /^vakt: cannot read the kubeconfig \/dev\/zero: it is over the 16 MiB limit/,
    );
    assert.match(empty?.stderr ?? "", /^vakt: the kubeconfig empty.yaml is empty/);
    assert.match(broken?.stderr ?? "", /^vakt: the kubeconfig broken.yaml (is not valid|names no cluster)/);
    for (const result of results) {
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
    }
  });

  it("a failed write (disk full) exits 2 with one line, in every format", async () => {
    const full = openSync("/dev/full", "w");
    try {
      for (const format of ["text", "json", "sarif", "junit"]) {
        const result = await runVakt(["check", "large.yaml", "-o", format], { cwd: dir, stdoutFd: full });
        assert.equal(result.code, 2, `${format}: ${result.stderr}`);
        assert.equal(
          result.stderr,
          "vakt: cannot write the output: ENOSPC: no space left on device, write\n",
        );
      }
    } finally {
      closeSync(full);
    }
  });

  it("a reader that closes the pipe early (| head -c 100) ends the run quietly with its usual exit code", async () => {
    for (const format of ["json", "sarif", "junit", "text"]) {
      const result = await runPiped(["check", "large.yaml", "-o", format], dir, async (stdout) => {
        let got = 0;
        for await (const chunk of stdout) {
          got += (chunk as Buffer).length;
          if (got >= 100) break; // leaving the loop destroys the stream: the pipe closes
        }
      });
      assert.equal(result.stderr, "", format);
      assert.equal(result.code, 1, `${format}: the findings' exit code`);
    }
  });

  it("a slow reader gets the whole JSON report", async () => {
    let text = "";
    const result = await runPiped(["check", "large.yaml", "-o", "json"], dir, async (stdout) => {
      for await (const chunk of stdout) {
        text += (chunk as Buffer).toString("utf8");
        await new Promise((resume) => setImmediate(resume));
      }
    });
    assert.equal(result.code, 1, result.stderr);
    const report = parseJsonReport(text);
    assert.equal(report.summary["objects"], large);
    assert.ok(report.findings.length >= large, String(report.findings.length));
  });

  it("an empty file or empty stdin exits 2 saying no objects were found, unless --allow-empty", async () => {
    const [file, stdin, allowedFile, allowedStdin] = await Promise.all([
      runVakt(["check", "empty.yaml"], { cwd: dir }),
      runVakt(["check", "-", "-o", "json"], { cwd: dir, input: "" }),
      runVakt(["check", "--allow-empty", "empty.yaml"], { cwd: dir }),
      runVakt(["check", "-", "--allow-empty"], { cwd: dir, input: "# helm printed nothing\n" }),
    ]);
    assert.equal(file.code, 2, file.stdout + file.stderr);
    assert.match(file.stderr, /^vakt: no Kubernetes objects found in empty\.yaml; .*--allow-empty/);
    assert.equal(stdin.code, 2, stdin.stdout + stdin.stderr);
    assert.match(stdin.stderr, /^vakt: no Kubernetes objects found in standard input;/);
    assert.equal(parseJsonReport(stdin.stdout).summary["objects"], 0, "the report is still written");
    assert.equal(allowedFile.code, 0, allowedFile.stderr);
    assert.equal(allowedStdin.code, 0, allowedStdin.stderr);
    assert.equal(allowedFile.stderr + allowedStdin.stderr, "");
  });

  it("text output keeps a namespace with a newline, ESC, CR and U+2028 on its line, escaped", async () => {
    const result = await runVakt(["check", "forged.yaml"], { cwd: dir });
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stdout.split("\n");
    assert.ok(!lines.some((line) => line.startsWith("forged.yaml:1:1  DENY  forged-rule")), result.stdout);
    // eslint-disable-next-line no-control-regex -- looking for raw control characters
    assert.doesNotMatch(result.stdout.replaceAll("\n", ""), /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    assert.ok(
      result.stdout.includes(
        "Pod/shop\\nforged.yaml:1:1  DENY  forged-rule  Pod/x\\u2028\\x1b[2J\\r/debug-0",
      ),
      result.stdout,
    );
  });

  it("SARIF: executionSuccessful is false when an input failed; a suppression carries the exception's justification", async () => {
    const [failed, suppressed] = await Promise.all([
      runVakt(["check", "one.yaml", "broken.yaml", "-o", "sarif"], { cwd: dir }),
      runVakt(["check", "one.yaml", "exception.yaml", "-o", "sarif"], { cwd: dir }),
    ]);
    interface Log {
      runs: {
        invocations: { executionSuccessful: boolean }[];
        results: { ruleId: string; suppressions?: { justification?: string }[] }[];
      }[];
    }
    assert.equal(failed.code, 2, failed.stderr);
    assert.equal((JSON.parse(failed.stdout) as Log).runs[0]?.invocations[0]?.executionSuccessful, false);
    assert.equal(suppressed.code, 1, suppressed.stderr);
    const run = (JSON.parse(suppressed.stdout) as Log).runs[0];
    assert.equal(run?.invocations[0]?.executionSuccessful, true);
    const privileged = run.results.find((result) => result.ruleId === "pss-privileged");
    assert.deepEqual(
      privileged?.suppressions?.map((suppression) => suppression.justification),
      ["debug pods run on an isolated node pool, reviewed weekly"],
    );
  });
});
