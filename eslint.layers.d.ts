/** Types of eslint.layers.js (imported by test/unit/layers.test.ts). */
import type { Linter } from 'eslint'

/** Flat-config blocks enforcing the one-way layers with no-restricted-imports. */
export declare const layerRules: Linter.Config[]
