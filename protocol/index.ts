export * from './names.ts'
export * from './roles.ts'
export * from './errors.ts'
