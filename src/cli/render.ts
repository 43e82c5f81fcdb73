import type { Command } from "commander";

// Registration only: the implementation (YAML, the Tenant modules) is loaded by the actions.
export function registerRender(program: Command): void {
  program
    .command("render")
    .description(
      "render the objects that make up Tenants (namespaces, guardrails, managed services) for GitOps",
    )
    .argument("<file>", "YAML or JSON file with one or more Tenant documents, or - for stdin")
    .option("-o, --output <format>", "output format: yaml or json", "yaml")
    .action(async (file: string, options: { output: string }) => {
      const { checkFormat, formatObjects, readText, renderText } = await import("./render-tenants.ts");
      const { writeOutput } = await import("./output.ts");
      const format = checkFormat(options.output);
      const { objects, warnings } = renderText(await readText(file), file);
      for (const warning of warnings) process.stderr.write(`${warning}\n`);
      await writeOutput(process.stdout, [formatObjects(objects, format)]);
    });
  program
    .command("crds")
    .description("print the CustomResourceDefinitions vakt serves (Tenant)")
    .option("-o, --output <format>", "output format: yaml or json", "yaml")
    .action(async (options: { output: string }) => {
      const { checkFormat, formatObjects, tenantCrd } = await import("./render-tenants.ts");
      process.stdout.write(formatObjects([tenantCrd()], checkFormat(options.output)));
    });
}
