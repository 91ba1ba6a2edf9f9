import yaml from 'js-yaml';

/** One rule of a Prometheus rule file, with the file and group it came from. */
export interface LoadedRule {
  file: string;
  group: string;
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleFileDocument {
  groups: Array<{ name: string; rules: Array<Omit<LoadedRule, 'file' | 'group'>> }>;
}

/** The rules of a rule file's YAML text, in file order. */
export function rulesOf(content: string, file: string): LoadedRule[] {
  const document = yaml.load(content) as RuleFileDocument;
  return document.groups.flatMap((group) => group.rules.map((rule) => ({ ...rule, file, group: group.name })));
}

/** The rules of every file of a rendered or read bundle (relative path -> content); non-rule files are skipped. */
export function rulesOfFiles(files: Map<string, string>): LoadedRule[] {
  return [...files]
    .filter(([path]) => path.endsWith('.rules.yml'))
    .flatMap(([path, content]) => rulesOf(content, path));
}
