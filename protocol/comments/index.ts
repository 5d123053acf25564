export * from './fields.ts'
export * from './body.ts'
export * from './write.ts'
export * from './read.ts'
