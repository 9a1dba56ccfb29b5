/* One rank of a multi-node parallel job: prints what it sees, one line,
 * for test_multinode.py to check against the placement:
 *   rank R size N index I main M nodes K cpus LIST sum S
 * R/N from MPI, I/M/K from AWS_BATCH_JOB_NODE_INDEX / _MAIN_NODE_INDEX /
 * _NUM_NODES, LIST from /proc/self/status, S = allreduce of the ranks. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "-";
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  char cpus[256] = "-";
  FILE* status = fopen("/proc/self/status", "r");
  char line[512];
  while (status && fgets(line, sizeof line, status)) {
    if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
      sscanf(line + 18, "%255s", cpus);
      break;
    }
  }
  if (status) fclose(status);
  int sum = 0;
  MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  printf("rank %d size %d index %s main %s nodes %s cpus %s sum %d\n", rank, size,
         env("AWS_BATCH_JOB_NODE_INDEX"), env("AWS_BATCH_JOB_MAIN_NODE_INDEX"),
         env("AWS_BATCH_JOB_NUM_NODES"), cpus, sum);
  fflush(stdout);
  MPI_Finalize();
  return 0;
}
