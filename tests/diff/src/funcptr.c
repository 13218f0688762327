/* Function pointers: an operation table, callbacks, a generic sort with a comparator,
 * and an object with a table of methods (a vtable), called indirectly with jalr/call *. */
#include "rt.h"

typedef i64 (*binop)(i64, i64);
static i64 add(i64 a, i64 b) { return a + b; }
static i64 sub(i64 a, i64 b) { return a - b; }
static i64 mul(i64 a, i64 b) { return a * b; }
static i64 max(i64 a, i64 b) { return a > b ? a : b; }
static i64 xor(i64 a, i64 b) { return a ^ b; }

static const struct {
  const char *name;
  binop fn;
} ops[] = {{"add", add}, {"sub", sub}, {"mul", mul}, {"max", max}, {"xor", xor}};

static i64 fold(const i64 *v, int n, binop f, i64 init) {
  for (int i = 0; i < n; i++) init = f(init, v[i]);
  return init;
}

static void sort(void *base, int n, int size, int (*less)(const void *, const void *)) {
  char *b = base;
  char t[32];
  for (int i = 1; i < n; i++) {
    for (int j = i; j > 0 && less(b + j * size, b + (j - 1) * size); j--) {
      memcpy(t, b + j * size, (size_t)size);
      memcpy(b + j * size, b + (j - 1) * size, (size_t)size);
      memcpy(b + (j - 1) * size, t, (size_t)size);
    }
  }
}

struct point {
  i64 x, y;
};
static int by_x(const void *a, const void *b) { return ((const struct point *)a)->x < ((const struct point *)b)->x; }
static int by_norm(const void *a, const void *b) {
  const struct point *p = a, *q = b;
  return p->x * p->x + p->y * p->y < q->x * q->x + q->y * q->y;
}

struct shape;
struct shape_ops {
  i64 (*area)(const struct shape *);
  const char *(*name)(void);
};
struct shape {
  const struct shape_ops *ops;
  i64 a, b;
};
static i64 rect_area(const struct shape *s) { return s->a * s->b; }
static const char *rect_name(void) { return "rectangle"; }
static i64 tri_area(const struct shape *s) { return s->a * s->b / 2; }
static const char *tri_name(void) { return "triangle"; }
static const struct shape_ops rect = {rect_area, rect_name}, tri = {tri_area, tri_name};

static volatile int pick = 3;

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  i64 v[] = {5, -3, 12, 7, 0, -8, 21};
  for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    put_str(ops[i].name);
    put_char('=');
    put_i64(fold(v, 7, ops[i].fn, i == 2 ? 1 : 0));
    put_nl();
  }
  binop chosen = ops[pick].fn;
  put_kv("chosen(4,9)", chosen(4, 9));
  struct point pts[] = {{3, 4}, {-1, 0}, {2, -7}, {0, 0}, {-5, 5}, {1, 1}};
  sort(pts, 6, sizeof pts[0], by_x);
  for (int i = 0; i < 6; i++) put_i64(pts[i].x), put_char(i < 5 ? ',' : '\n');
  sort(pts, 6, sizeof pts[0], by_norm);
  for (int i = 0; i < 6; i++) put_i64(pts[i].x * 10 + pts[i].y), put_char(i < 5 ? ',' : '\n');
  struct shape shapes[] = {{&rect, 3, 4}, {&tri, 6, 5}, {&rect, 10, 10}};
  i64 total = 0;
  for (int i = 0; i < 3; i++) {
    put_str(shapes[i].ops->name());
    put_char(' ');
    put_i64(shapes[i].ops->area(&shapes[i]));
    put_nl();
    total += shapes[i].ops->area(&shapes[i]);
  }
  put_kv("total_area", total);
  return (int)(total % 100);
}
