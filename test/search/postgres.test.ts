import { searchSuite } from './suite.ts'

searchSuite('postgres')
