/* ISC license. */

#ifndef HPPOOL_H
#define HPPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>

#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

#include <holdingpen/protocol.h>

 /* Pool configuration: what a pool directory says, checked. */

#define HP_KIND_MEMFD 0
#define HP_KIND_HUGETLB 1
#define HP_KIND_FILE 2
#define HP_KIND_BALLAST_MEM 3
#define HP_KIND_BALLAST_DISK 4
#define HP_KIND_N 5

#define HP_DIR_MAX 1023
#define HP_DEFAULT_KILLDELAY 2

typedef struct hp_poolconf_s hp_poolconf, *hp_poolconf_ref ;
struct hp_poolconf_s
{
  char name[HOLDINGPEN_POOLNAME_MAX + 1] ;
  char dir[HP_DIR_MAX + 1] ;
  uint64_t size ;
  uint32_t count ;
  uint32_t expire ;
  uint32_t ifelapsed ;
  uint32_t killdelay ;
  uint32_t maxperuid ;
  unsigned int kind ;
  unsigned int lock : 1 ;
} ;

extern char const *const hp_kind_names[HP_KIND_N] ;
extern int hp_kind_scan (char const *, unsigned int *) ;
#define hp_kind_isfd(k) ((k) <= HP_KIND_FILE)
#define hp_kind_isdisk(k) ((k) == HP_KIND_FILE || (k) == HP_KIND_BALLAST_DISK)

extern size_t hp_size_scan (char const *, uint64_t *) ;
extern int hp_poolname_valid (char const *, size_t) ;
extern uint64_t hp_hugepagesize (void) ;
extern int hp_meminfo (char const *, uint64_t *) ;
extern int hp_resource_empty (int, uint64_t *) ;
extern int hp_resource_mark (int, int, mode_t *) ;
extern int hp_resource_marked (int) ;

 /* The lines of a file through a small buffer: see hp_lines.c. */
#define HP_LINE_MAX 512
typedef int hp_line_func (char *, size_t, int, void *) ;
typedef hp_line_func *hp_line_func_ref ;
extern int hp_lines (char const *, hp_line_func_ref, void *) ;

 /*
   What a helper leaves free when it reserves memory: 1/64 of the
   machine's memory (at least 64 MiB) and of each cgroup limit (at least
   16 MiB), for the kernel, the daemon, and the time between looking and
   taking. Memory goes in chunks, each checked first.
 */
#define HP_MARGIN_SHIFT 6
#define HP_MARGIN_MACHINE_MIN ((uint64_t)64 << 20)
#define HP_MARGIN_CGROUP_MIN ((uint64_t)16 << 20)
#define HP_RESERVE_CHUNK ((uint64_t)64 << 20)
extern int hp_mem_fits (uint64_t) ;
extern int hp_memcg_fits (uint64_t) ;

extern int hp_conferr (stralloc *, char const *, char const *, char const *) ;
extern void hp_poolconf_default (hp_poolconf *) ;
extern int hp_poolconf_check (hp_poolconf const *, uint64_t, stralloc *) ;
extern int hp_poolconf_read (hp_poolconf *, char const *, char const *, stralloc *) ;
extern int hp_pooldir_read (genalloc *, char const *, stralloc *) ;
extern int hp_dir_shared (struct stat const *, uid_t, char const **) ;

 /* hp_dir_open: a directory, walked from / and checked component by component */
typedef struct hp_dirwalk_s hp_dirwalk, *hp_dirwalk_ref ;
struct hp_dirwalk_s
{
  char const *why ;   /* the component is refused, why; 0: errno says */
  size_t len ;        /* the path's prefix naming that component */
  unsigned int planted : 1 ;  /* another user's entry in a directory shared like /tmp */
} ;
extern int hp_dir_open (char const *, uid_t, hp_dirwalk *) ;
extern int hp_poolconf_checkdir (hp_poolconf const *, uid_t, stralloc *) ;


#endif
