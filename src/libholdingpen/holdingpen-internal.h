/* ISC license. */

#ifndef HOLDINGPEN_INTERNAL_H
#define HOLDINGPEN_INTERNAL_H

#include <sys/uio.h>

#include <skalibs/tai.h>
#include <skalibs/stralloc.h>

#include <holdingpen/holdingpen.h>

extern int holdingpen_transact (holdingpen *, struct iovec const *, unsigned int, stralloc *, tain const *, tain *) ;

#endif
