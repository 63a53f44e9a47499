// Limits that more than one stage checks, defined below all of them: validation checks inline
// cloud-init data against the same size as the input reader checks a user-data file.

/** Largest user-data file (cloud-init's own NoCloud limit is far larger; user-data is not a disk image). */
export const MAX_USER_DATA_BYTES = 256 * 1024;
