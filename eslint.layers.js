// @ts-check
/**
 * The one-way layers, as lint rules (docs/ARCHITECTURE.md "Layers"):
 *   protocol/   imports nothing of the project
 *   core/       the domain: imports protocol/ and libraries
 *   extensions/ Hocuspocus adapters: import core/ and protocol/
 *   client/     the SDK: imports protocol/ only
 *   server/     composes: may import all of the above
 *   demo/       the web app: imports client/ and protocol/ only, like any app using the SDK
 * A relative import that climbs to the top and enters a folder the layer may not see is an error.
 */

/** @param {string[]} folders @param {string} layer */
function forbid(folders, layer) {
  return {
    regex: `^(\\.\\./)+(${folders.join('|')})/`,
    message: `${layer} may not import ${folders.join('/, ')}/ (see docs/ARCHITECTURE.md "Layers")`,
  }
}

/** Flat-config blocks enforcing the layers with no-restricted-imports. */
export const layerRules = [
  {
    files: ['protocol/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [forbid(['core', 'extensions', 'server', 'client'], 'protocol/')] }] },
  },
  { files: ['core/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [forbid(['extensions', 'server', 'client'], 'core/')] }] } },
  { files: ['extensions/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [forbid(['server', 'client'], 'extensions/')] }] } },
  { files: ['client/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [forbid(['core', 'extensions', 'server'], 'client/')] }] } },
  { files: ['demo/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [forbid(['core', 'extensions', 'server'], 'demo/')] }] } },
]
