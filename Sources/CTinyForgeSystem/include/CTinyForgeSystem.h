#ifndef CTINYFORGE_SYSTEM_H
#define CTINYFORGE_SYSTEM_H

/// Linux calls Swift cannot import (variadic in glibc). Each returns 0 on success, -1 with errno
/// set otherwise (ENOSYS on systems without the call).

/// prctl(PR_SET_PDEATHSIG, sig): the kernel sends `sig` to this process when the thread that
/// created it exits. Used by search workers so they die with the search (kill -9 included).
int tinyforge_set_parent_death_signal(int sig);

#endif
