/* dfsae_model_train: epochs of shuffled batches over the public verb
 * dfsae_train_step. */
#include <limits.h>
#include <string.h>

#include "dist/dist.h"
#include "model.h"
#include "optim/optim.h"
#include "train/train.h"

/* Everything a run needs, allocated once per call. */
typedef struct run {
    dfsae_model *m;
    dfsae_optimizer *opt;
    const float *X;
    size_t n_local, row0;   /* this rank's rows of the data: [row0, +n_local) */
    int split;              /* data-parallel: gather only this rank's rows */
    dfsae_batch_plan plan;  /* a whole epoch */
    dfsae_batch_plan first; /* the first epoch: from the run state's row */
    size_t *idx;            /* the epoch's order of rows */
    float *batch;           /* gathered rows, max_rows x D */
    int shuffle;
    uint64_t seed, first_epoch, epochs, every;
    uint64_t steps_total;
    dfsae_progress_fn cb;
    void *user;
    dfsae_converge converge;
} run;

/* Validates this rank's arguments before the model or optimizer is
 * touched (with a comm, a data-parallel rank may hold no rows). */
static int check_local(dfsae_model *m, dfsae_optimizer *opt, const float *X,
                       size_t n)
{
    int split = dfsae__dist_is(m->dist, DFSAE_DIST_DATA);
    if (opt == NULL)
        return dfsae__fail(m->err, DFSAE_ERR_NULL_ARG, "train: opt is NULL");
    if (X == NULL && !(split && n == 0))
        return dfsae__fail(m->err, DFSAE_ERR_NULL_ARG, "train: X is NULL");
    if (n == 0 && !split)
        return dfsae__fail(m->err, DFSAE_ERR_INVALID_ARG,
                           "train: the data set is empty (n = 0)");
    if (opt->n != m->n_params)
        return dfsae__fail(m->err, DFSAE_ERR_SIZE_MISMATCH,
                           "train: the optimizer is for %zu parameters, the "
                           "model has %zu",
                           opt->n, m->n_params);
    size_t nd;
    if (!dfsae__mul_size(n, m->d, &nd) ||
        !dfsae__mul_size(nd, sizeof(float), &nd))
        return dfsae__fail(m->err, DFSAE_ERR_SIZE_OVERFLOW,
                           "train: %zu rows overflow", n);
    size_t bad = dfsae__first_non_finite(X, n * m->d);
    if (bad != n * m->d)
        return dfsae__fail(m->err, DFSAE_ERR_NON_FINITE_INPUT,
                           "train: X[%zu][%zu] is not finite", bad / m->d,
                           bad % m->d);
    return DFSAE_OK;
}

/* The plan over all n rows of the data set (every rank's, with a comm):
 * the same on every rank, as their configs are. */
static int check(dfsae_model *m, dfsae_optimizer *opt, const float *X, size_t n,
                 const dfsae_train_config *cfg, run *r)
{
    if (n == 0)
        return dfsae__fail(m->err, DFSAE_ERR_INVALID_ARG,
                           "train: the data set is empty (n = 0)");
    int variance = m->opt.lambda[DFSAE_TERM_VAR] != 0.0 ||
                   m->opt.lambda[DFSAE_TERM_TC] != 0.0;
    size_t batch = dfsae__train_batch_size(cfg);
    if (variance && (n < 2 || batch < 2))
        return dfsae__fail(m->err, DFSAE_ERR_BATCH_TOO_SMALL,
                           "train: L_var and L_tc need batches of at least 2 "
                           "rows (n = %zu, batch size = %zu)",
                           n, batch);
    const dfsae__run_state *rs = &m->run;
    if (rs->rows > 0 && rs->rows >= n)
        return dfsae__fail(m->err, DFSAE_ERR_INVALID_ARG,
                           "train: the model stopped %llu rows into epoch "
                           "%llu, but the data set has %zu rows "
                           "(dfsae_model_set_run_state starts the epoch "
                           "over)",
                           (unsigned long long)rs->rows,
                           (unsigned long long)rs->epochs, n);
    if (variance && rs->rows > 0 && n - rs->rows < 2)
        return dfsae__fail(m->err, DFSAE_ERR_BATCH_TOO_SMALL,
                           "train: the model stopped with 1 row of epoch "
                           "%llu left; L_var and L_tc need 2",
                           (unsigned long long)rs->epochs);
    dfsae__batch_plan(&r->plan, n, 0, batch, variance);
    dfsae__batch_plan(&r->first, n, (size_t)rs->rows, batch, variance);
    if (dfsae__batch_plan_max_rows(&r->plan) > (size_t)INT_MAX)
        return dfsae__fail(m->err, DFSAE_ERR_SIZE_OVERFLOW,
                           "train: a batch of %zu rows overflows",
                           dfsae__batch_plan_max_rows(&r->plan));
    r->epochs = dfsae__train_u64(cfg, DFSAE_TRAIN_EPOCHS);
    if (r->epochs > UINT64_MAX - rs->epochs ||
        r->epochs - 1 > (UINT64_MAX - r->first.steps) / r->plan.steps)
        return dfsae__fail(m->err, DFSAE_ERR_SIZE_OVERFLOW,
                           "train: the epoch or step count overflows");
    r->steps_total = r->first.steps + (r->epochs - 1) * r->plan.steps;
    r->m = m;
    r->opt = opt;
    r->X = X;
    r->shuffle = dfsae__train_u64(cfg, DFSAE_TRAIN_SHUFFLE) != 0;
    r->seed = rs->seed;
    r->first_epoch = rs->epochs;
    r->every = dfsae__train_u64(cfg, DFSAE_TRAIN_REPORT_EVERY);
    dfsae__converge_init(&r->converge, cfg);
    return DFSAE_OK;
}

static int setup(run *r)
{
    dfsae_model *m = r->m;
    size_t rows = dfsae__batch_plan_max_rows(&r->plan);
    r->idx = dfsae__alloc_array(&m->alloc, r->plan.n, sizeof *r->idx);
    /* Without shuffling a batch is a contiguous slice of X: no copy. */
    const int gathers = r->shuffle || r->split;
    size_t floats;
    if (gathers && dfsae__mul_size(rows, m->d, &floats))
        r->batch = dfsae__alloc_array(&m->alloc, floats, sizeof(float));
    if (r->idx == NULL || (gathers && r->batch == NULL))
        return dfsae__fail(m->err, DFSAE_ERR_NO_MEMORY,
                           "train: cannot allocate the batch buffers");
    /* Sized for the largest batch now, so that no step allocates. */
    int st = dfsae_model_reserve(m, rows);
    return st;
}

/* The rows of step s, gathered when shuffled. Data-parallel: this rank's
 * rows of the global batch, in the batch's order, into *local. */
static const float *gather(const run *r, size_t first, size_t rows,
                           size_t *local)
{
    const size_t d = r->m->d;
    *local = rows;
    if (r->split) {
        size_t count = 0;
        for (size_t i = 0; i < rows; ++i) {
            size_t g = r->idx[first + i];
            if (g >= r->row0 && g - r->row0 < r->n_local)
                memcpy(r->batch + count++ * d, r->X + (g - r->row0) * d,
                       d * sizeof(float));
        }
        *local = count;
        return r->batch;
    }
    if (!r->shuffle)
        return r->X + first * d;
    for (size_t i = 0; i < rows; ++i)
        memcpy(r->batch + i * d, r->X + r->idx[first + i] * d,
               d * sizeof(float));
    return r->batch;
}

/* Prefixes the detail message of a failed step with where it happened. */
static int step_failed(dfsae_model *m, int st, const char *detail,
                       uint64_t epoch, uint64_t step)
{
    char copy[DFSAE_ERR_LEN];
    memcpy(copy, detail, sizeof copy);
    copy[sizeof copy - 1] = '\0';
    return dfsae__fail(m->err, st, "train: epoch %llu, step %llu: %s",
                       (unsigned long long)epoch, (unsigned long long)step,
                       copy);
}

/* Records a completed step in the run state, so that whenever training
 * stops the model says where. */
static void advance(dfsae_model *m, size_t rows, int epoch_done)
{
    m->run.rows += rows;
    if (epoch_done) {
        m->run.epochs++;
        m->run.rows = 0;
    }
}

/* Calls the progress callback, if any: 1 to cancel. With a comm every rank
 * comes here at the same points, callback or not (often only rank 0 has
 * one), and they agree, so that a cancel on one stops all. */
static int report(run *r, const dfsae_progress *p)
{
    int stop = r->cb != NULL && r->cb(p, r->user) != 0;
    if (r->m->dist == NULL)
        return stop;
    return dfsae__dist_agree(r->m->dist, r->m->err, "train",
                             stop ? DFSAE_ERR_CANCELLED : DFSAE_OK) != DFSAE_OK;
}

static int epochs(run *r)
{
    const int reports = r->cb != NULL || r->m->dist != NULL;
    dfsae_model *m = r->m;
    dfsae_progress p;
    memset(&p, 0, sizeof p);
    p.steps_per_epoch = r->plan.steps;
    p.steps_total = r->steps_total;
    const double t0 = dfsae__now();
    for (uint64_t e = 0; e < r->epochs; ++e) {
        const uint64_t epoch = r->first_epoch + e;
        const dfsae_batch_plan *plan = e == 0 ? &r->first : &r->plan;
        /* A continued epoch reports its steps as the whole epoch counts
         * them (exactly so when the batch size is unchanged). */
        const uint64_t step0 = plan->start / plan->batch;
        const double te = dfsae__now();
        double sum = 0.0, sum_terms[DFSAE_TERM_COUNT] = {0};
        size_t seen = 0;
        dfsae__epoch_order(r->idx, r->plan.n, r->shuffle, r->seed, epoch);
        for (uint64_t s = 0; s < plan->steps; ++s) {
            size_t first, rows;
            dfsae__batch_plan_step(plan, s, &first, &rows);
            size_t local;
            const float *Xb = gather(r, first, rows, &local);
            double loss, terms[DFSAE_TERM_COUNT];
            int st = dfsae_train_step(m, r->opt, Xb, local, &loss, terms,
                                      DFSAE_TERM_COUNT);
            if (st != DFSAE_OK)
                return step_failed(m, st, m->err, epoch, step0 + s);
            advance(m, rows, s + 1 == plan->steps);
            seen += rows;
            sum += loss;
            for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
                sum_terms[t] += terms[t];
            p.steps_done++;
            if (!reports || r->every == 0 || p.steps_done % r->every)
                continue;
            double now = dfsae__now();
            p.event = DFSAE_EVENT_STEP;
            p.epoch = epoch;
            p.step = step0 + s;
            p.loss = loss;
            memcpy(p.terms, terms, sizeof terms);
            p.rows = rows;
            p.indices = r->idx + first;
            p.samples_per_sec = now > te ? (double)seen / (now - te) : 0.0;
            p.elapsed = now - t0;
            if (report(r, &p))
                return dfsae__fail(m->err, DFSAE_ERR_CANCELLED,
                                   "train: cancelled after epoch %llu, step "
                                   "%llu",
                                   (unsigned long long)epoch,
                                   (unsigned long long)(step0 + s));
        }
        const double steps = (double)plan->steps;
        p.converged = dfsae__converge_update(&r->converge, sum / steps);
        if (!reports) {
            if (p.converged)
                break;
            continue;
        }
        double now = dfsae__now();
        p.event = DFSAE_EVENT_EPOCH;
        p.epoch = epoch;
        p.step = r->plan.steps;
        p.loss = sum / steps;
        for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
            p.terms[t] = sum_terms[t] / steps;
        p.rows = seen;
        p.indices = NULL;
        p.samples_per_sec = now > te ? (double)seen / (now - te) : 0.0;
        p.elapsed = now - t0;
        if (report(r, &p))
            return dfsae__fail(m->err, DFSAE_ERR_CANCELLED,
                               "train: cancelled after epoch %llu",
                               (unsigned long long)epoch);
        if (p.converged)
            break;
    }
    return DFSAE_OK;
}

int dfsae_model_train(dfsae_model *model, dfsae_optimizer *opt, const float *X,
                      size_t n, const dfsae_train_config *config,
                      dfsae_progress_fn progress, void *user)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    run r;
    memset(&r, 0, sizeof r);
    dfsae_dist *dist = model->dist;
    int st = check_local(model, opt, X, n);
    /* With a comm: every rank's verdict, and the rows they hold. */
    st = dfsae__dist_begin(dist, model->err, "train", st, n);
    if (st != DFSAE_OK)
        return st;
    r.n_local = n;
    r.split = dfsae__dist_is(dist, DFSAE_DIST_DATA);
    if (r.split) {
        for (int q = 0; q < dist->comm.rank; ++q)
            r.row0 += (size_t)dist->counts[q];
        n = dist->n_batch;
    }
    st = check(model, opt, X, n, config, &r);
    if (st != DFSAE_OK)
        return st;
    r.cb = progress;
    r.user = user;
    st = setup(&r);
    st = dfsae__dist_agree(dist, model->err, "train", st);
    if (st == DFSAE_OK)
        st = epochs(&r);
    dfsae__free(&model->alloc, r.idx);
    dfsae__free(&model->alloc, r.batch);
    return st;
}
