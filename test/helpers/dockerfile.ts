/*
 * Just enough of the Dockerfile and .dockerignore formats to check ours without a Docker engine: instructions
 * with line continuations, ARG defaults in FROM, stages. Anything this reader does not understand throws, so a
 * check built on it cannot pass by misreading.
 */

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`unreadable Dockerfile line: ${line}`);
    const [, op = '', rest = ''] = m;
    if (op === 'ARG' && stages.length === 0) {
      const [key = '', value = ''] = rest.split('=');
      args.set(key, value);
    } else if (op === 'FROM') {
      const [ref = '', as, name] = rest.split(/\s+/);
      const image = ref.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
        const value = args.get((a ?? b) as string);
        if (value === undefined) throw new Error(`FROM uses ${a ?? b}, which has no default`);
        return value;
      });
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${op} before the first FROM`);
      stage.instructions.push({ op, args: rest });
    }
  }
  return stages;
}

export interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}

/** COPY instructions of a stage, flags other than --from and --chown rejected. */
export function copiesOf(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      let from: string | undefined;
      while (words[0]?.startsWith('--')) {
        const flag = words.shift() as string;
        if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
        else if (!flag.startsWith('--chown=')) throw new Error(`unexpected COPY flag ${flag}`);
      }
      const dest = words.pop() as string;
      return { from, sources: words, dest };
    });
}

/** The stage's WORKDIR (the last one), or / when it sets none. */
export function workdirOf(stage: Stage): string {
  return stage.instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.args ?? '/';
}

/**
 * Whether `.dockerignore` keeps a repository path in the build context. Supports the forms ours uses: `*`,
 * plain names and folders (`name`, `name/`), each optionally negated with `!`; the last matching line wins.
 */
export function inBuildContext(dockerignore: string, path: string): boolean {
  let included = true;
  for (const raw of dockerignore.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = (negated ? line.slice(1) : line).replace(/\/$/, '');
    if (pattern !== '*' && /[*?[\]]/.test(pattern))
      throw new Error(`.dockerignore pattern not understood by this check: ${line}`);
    const matches = pattern === '*' || path === pattern || path.startsWith(`${pattern}/`);
    if (matches) included = negated;
  }
  return included;
}
