// The backup stage's public face: what commands and the schedule stage may import.
export { assertJobName, backupsDir, jobConfigFile, jobDir, jobExists } from './job-paths';
