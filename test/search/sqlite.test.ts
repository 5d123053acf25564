import { searchSuite } from './suite.ts'

searchSuite('sqlite')
