// ESLint rule: which package may import which. A service may import shared packages and itself; a
// shared package may import other shared packages; nothing in services/ or libs/ imports another
// service, by package name (`@trackme/read`) or by relative path (`../../read/src/…`).
import { dirname, relative, resolve, sep } from 'node:path';

const SERVICES = ['gateway', 'clients', 'read', 'metrics'];
const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');

/** `services/read` or `libs/platform` for a path inside the repository, else undefined. */
function packageOf(file) {
  const parts = relative(ROOT, file).split(sep);
  if ((parts[0] === 'services' || parts[0] === 'libs') && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return undefined;
}

/** The package an import specifier names, if it is one of this repository's. */
function targetOf(specifier, fromFile) {
  const named = /^@trackme\/([\w-]+)/.exec(specifier);
  if (named) return SERVICES.includes(named[1]) ? `services/${named[1]}` : `libs/${named[1]}`;
  if (specifier.startsWith('.')) return packageOf(resolve(dirname(fromFile), specifier));
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
export const dependencyDirection = {
  meta: {
    type: 'problem',
    docs: { description: 'services never import each other; shared packages never import a service' },
    messages: {
      serviceToService: '{{from}} imports {{to}}: services talk over Kafka or HTTP, never by import.',
      sharedToService: '{{from}} imports {{to}}: shared code must not depend on a service.',
    },
    schema: [],
  },
  create(context) {
    const from = packageOf(resolve(context.filename));
    if (!from) return {};
    const check = (node, source) => {
      if (!source || typeof source.value !== 'string') return;
      const to = targetOf(source.value, resolve(context.filename));
      if (!to || to === from || !to.startsWith('services/')) return;
      const messageId = from.startsWith('libs/') ? 'sharedToService' : 'serviceToService';
      context.report({ node: source, messageId, data: { from, to } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source : undefined),
    };
  },
};
