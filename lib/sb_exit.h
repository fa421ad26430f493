/*
 * sb_exit.h - the exit codes every sbtune program shares (sbagent(8),
 * sbtop(1), sbtune(8)).  sbtune adds its own from 4 up (tuner/sbtune.h).
 */
#ifndef SB_EXIT_H
#define SB_EXIT_H

#define SB_EXIT_OK          0   /* done */
#define SB_EXIT_FAILURE     1   /* any other failure */
#define SB_EXIT_USAGE       2   /* a bad option or configuration file */
#define SB_EXIT_UNAVAILABLE 3   /* httpd cannot be seen: no source answers */

#endif
