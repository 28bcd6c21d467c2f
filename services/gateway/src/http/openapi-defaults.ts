/**
 * A query parameter with a default is optional: the route fills the default in when it is left
 * out. The schemas list such parameters as required (TypeBox puts every non-optional property in
 * `required`), so the document would promise a 400 that never comes; this says what the server does.
 */

interface Parameter {
  in?: string;
  required?: boolean;
  schema?: { default?: unknown };
}

interface Document {
  paths?: Record<string, Record<string, { parameters?: Parameter[] }>>;
}

export function defaultedParametersOptional<T extends Document>(document: T): T {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in === 'query' && parameter.required && parameter.schema?.default !== undefined) parameter.required = false;
      }
    }
  }
  return document;
}
