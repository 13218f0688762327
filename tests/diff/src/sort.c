/* Sorting: quicksort, merge sort and insertion sort of pseudo-random arrays, checked
 * against each other and for order, with checksums of the results. */
#include "rt.h"

#define N 3000

static i64 a[N], b[N], c[N], tmp[N];

static u64 state = 0x2545f4914f6cdd1d;
static u64 next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static void quicksort(i64 *v, int lo, int hi) {
  while (lo < hi) {
    i64 pivot = v[lo + (hi - lo) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        i64 t = v[i];
        v[i++] = v[j];
        v[j--] = t;
      }
    }
    /* Recurse into the smaller half, loop on the larger: the stack stays shallow. */
    if (j - lo < hi - i) {
      quicksort(v, lo, j);
      lo = i;
    } else {
      quicksort(v, i, hi);
      hi = j;
    }
  }
}

static void mergesort(i64 *v, int n) {
  if (n < 2) return;
  int h = n / 2;
  mergesort(v, h);
  mergesort(v + h, n - h);
  int i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = v[i] <= v[j] ? v[i++] : v[j++];
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, (size_t)n * sizeof *v);
}

static void insertion(i64 *v, int n) {
  for (int i = 1; i < n; i++) {
    i64 x = v[i];
    int j = i - 1;
    while (j >= 0 && v[j] > x) v[j + 1] = v[j], j--;
    v[j + 1] = x;
  }
}

static u64 checksum(const i64 *v, int n) {
  u64 h = 1469598103934665603ul;
  for (int i = 0; i < n; i++) h = (h ^ (u64)v[i]) * 1099511628211ul;
  return h;
}

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  for (int i = 0; i < N; i++) a[i] = (i64)(next() % 100000) - 50000;
  memcpy(b, a, sizeof a);
  memcpy(c, a, sizeof a);
  put_kx("unsorted", checksum(a, N));
  quicksort(a, 0, N - 1);
  mergesort(b, N);
  insertion(c, 600); /* quadratic: a prefix is enough */
  int ordered = 1;
  for (int i = 1; i < N; i++) ordered &= a[i - 1] <= a[i];
  put_kv("ordered", ordered);
  put_kv("quick_equals_merge", memcmp(a, b, sizeof a) == 0);
  put_kx("sorted", checksum(a, N));
  put_kx("insertion_prefix", checksum(c, 600));
  put_kv("min", a[0]);
  put_kv("median", a[N / 2]);
  put_kv("max", a[N - 1]);
  return ordered ? 0 : 1;
}
