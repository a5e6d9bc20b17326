// Which archives of the repository are this job's: its archive_name with every placeholder that
// changes from run to run made a `*` (borg expands the others, {hostname} and the like, itself).
// Prune keeps to them, so a second job writing into the same repository under another name does
// not have its archives counted, and deleted, as this job's.
const VARYING = /\{(now|utcnow|pid|uuid4|borgversion|borgmajor|borgminor|borgpatch)(:[^}]*)?\}/g;

/** `--glob-archives` for the job's archives, or null when the name matches every archive anyway. */
export function archiveGlob(archiveName: string): string | null {
  const glob = archiveName.replace(VARYING, '*').replace(/\*+/g, '*');
  return glob === '*' ? null : glob;
}

/** Whether extra borg options already choose the archives (borg refuses two ways at once). */
export function choosesArchives(options: string[]): boolean {
  return options.some((o) => /^(-a|-P|--glob-archives|--prefix)(=|$)/.test(o));
}
