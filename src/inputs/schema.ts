/**
 * The js-yaml schema manifests are read with: YAML 1.1 scalars the way go-yaml v2 (behind
 * sigs.k8s.io/yaml, what Kubernetes decodes manifests with) reads them. See parse.ts for why.
 */
import {
  boolYaml11Tag,
  defineScalarTag,
  floatYaml11Tag,
  intYaml11Tag,
  mapTag,
  mergeTag,
  NOT_RESOLVED,
  nullYaml11Tag,
  Schema,
  seqTag,
  strTag,
  type ScalarTagDefinition,
} from "js-yaml";

function withoutBase60(tag: ScalarTagDefinition<number>): ScalarTagDefinition<number> {
  return defineScalarTag(tag.tagName, {
    implicit: tag.implicit,
    matchByTagPrefix: tag.matchByTagPrefix,
    implicitFirstChars: tag.implicitFirstChars,
    resolve: (source, isExplicit, tagName) =>
      source.includes(":") ? NOT_RESOLVED : tag.resolve(source, isExplicit, tagName),
    identify: tag.identify,
    represent: tag.represent,
    representTagName: tag.representTagName,
  });
}

/** The schema used to read manifests: YAML 1.1 scalars the way go-yaml v2 reads them (see above). */
export const KUBERNETES_SCHEMA = new Schema([
  strTag,
  seqTag,
  mapTag,
  nullYaml11Tag,
  boolYaml11Tag,
  withoutBase60(intYaml11Tag),
  withoutBase60(floatYaml11Tag),
  mergeTag,
]);
