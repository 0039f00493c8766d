/* The newswatch release, printed by each program's --version. */
#ifndef NEWSWATCH_VERSION_H
#define NEWSWATCH_VERSION_H

#define NW_VERSION "0.1.0"

#endif
