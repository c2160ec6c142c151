/* `thetactl log ...` subcommands that need no daemon. */
#pragma once

/* thetactl log verify PATH: argv[0] is the subcommand name ("verify"),
 * argv[1] a log directory or one segment file. Exit status: 0 every record
 * verified; 1 a bad record (one line on stdout: "record N at byte OFFSET:
 * REASON") or an unreadable PATH (stderr); 2 usage. */
int ctl_cmd_log_verify(int argc, char **argv);
