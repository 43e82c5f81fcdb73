/**
 * The label selector string of list and watch requests (`app=web,tier!=db,env in (prod,test),!legacy`),
 * checked before it is sent: the API server answers a bad one with 400 on every list, which a
 * watch would retry forever. Returns what is wrong with the first bad requirement, or undefined.
 *
 *   checkLabelSelector("region=se,,tier=db")  // 'requirement 2 is empty (two commas in a row?)'
 */
const NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

function keyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !PREFIX.test(prefix)))
    return `key "${key}": the prefix before "/" must be a DNS subdomain (lower case, e.g. vakt.dev)`;
  if (!NAME.test(name))
    return `key "${key}": a name of at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  return undefined;
}

function valueProblem(value: string): string | undefined {
  return value === "" || NAME.test(value)
    ? undefined
    : `value "${value}": at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
}

/** Splits on the commas outside parentheses; undefined when the parentheses do not pair. */
function requirements(text: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth += 1;
    else if (c === ")") depth -= 1;
    if (depth < 0 || depth > 1) return undefined;
    if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return undefined;
  parts.push(text.slice(start));
  return parts;
}

function requirementProblem(requirement: string): string | undefined {
  const set = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(requirement);
  if (set !== null) {
    const [, key = "", , list = ""] = set;
    const values = list.split(",").map((value) => value.trim());
    if (values.every((value) => value === "")) return `"${requirement}": the set of values is empty`;
    return keyProblem(key) ?? values.map(valueProblem).find((problem) => problem !== undefined);
  }
  const compare = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(requirement);
  if (compare !== null) {
    const [, key = "", , value = ""] = compare;
    return keyProblem(key) ?? valueProblem(value);
  }
  const exists = /^(!?)\s*([^=!\s()]+)$/.exec(requirement);
  if (exists !== null) return keyProblem(exists[2] ?? "");
  return `"${requirement}" is not key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)`;
}

export function checkLabelSelector(text: string): string | undefined {
  if (text.trim() === "") return "it is empty (leave the option out to select everything)";
  const parts = requirements(text);
  if (parts === undefined) return "its parentheses do not pair";
  for (const [index, part] of parts.entries()) {
    const requirement = part.trim();
    if (requirement === "") return `requirement ${String(index + 1)} is empty (two commas in a row?)`;
    const problem = requirementProblem(requirement);
    if (problem !== undefined) return `requirement ${String(index + 1)}, ${problem}`;
  }
  return undefined;
}
