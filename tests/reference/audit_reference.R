#!/usr/bin/env Rscript
# Reference values for the audit of published results (mscreview.stats.audit), from R metafor.
#
# Run from the repository root:  Rscript tests/reference/audit_reference.R
# Writes tests/reference/audit_reference.json (committed; the tests need no R).
#
# metafor computes a CI and a p-value from an estimate and its SE; the audit goes the other way
# (SE from a printed CI, then z and p). Each case records the exact call, metafor's SE, CI and
# p-value, and, for pooled analyses, Q, its p-value and k, so the tests can check that
#   - se_from_ci(ci.lb, ci.ub) recovers metafor's SE (log scale for ratio measures),
#   - check_p_value at full precision reproduces metafor's p-value,
#   - the k implied by the rounded I^2 (RevMan's (Q - df)/Q) and the rounded Q p-value
#     contains metafor's k.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

cases <- list()

one <- function(name, call, fit, ratio = FALSE, transf = NULL) {
  pr <- if (ratio) predict(fit, transf = exp) else predict(fit)
  k <- fit$k
  q <- if (is.null(fit$QE)) NA else fit$QE
  cases[[name]] <<- list(
    call = call, ratio = ratio, k = k,
    estimate = as.numeric(pr$pred), ci_low = as.numeric(pr$ci.lb), ci_high = as.numeric(pr$ci.ub),
    se = fit$se, z = fit$zval, p = fit$pval,
    q = q, q_p = fit$QEp,
    i2_revman = if (k > 1 && q > 0) 100 * max(0, (q - (k - 1)) / q) else 0
  )
}

# --- single estimates with a known SE (the CI and p that metafor prints for them) ------------
singles <- list(
  list(yi = -0.27, sei = 0.163), list(yi = 0.51, sei = 0.14), list(yi = -1.12, sei = 0.367),
  list(yi = 0.02, sei = 0.4), list(yi = 2.5, sei = 0.6), list(yi = -0.004, sei = 0.001)
)
for (i in seq_along(singles)) {
  s <- singles[[i]]
  fit <- rma(yi = s$yi, sei = s$sei, method = "FE")
  one(sprintf("single_%d", i), sprintf("rma(yi=%s, sei=%s, method=\"FE\")", s$yi, s$sei), fit)
}
# ratio: log HR 0.47 [0.29, 0.76] style
for (hr in list(list(yi = log(0.47), sei = 0.2458), list(yi = log(2.3), sei = 0.41))) {
  fit <- rma(yi = hr$yi, sei = hr$sei, method = "FE")
  one(sprintf("single_ratio_%.3f", exp(hr$yi)),
      sprintf("rma(yi=log(%.4f), sei=%s, method=\"FE\"); predict(transf=exp)", exp(hr$yi), hr$sei),
      fit, ratio = TRUE)
}

# --- pooled analyses (metadat datasets) ----------------------------------------------------
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
one("bcg_rr_reml", "escalc(\"RR\", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg); rma(yi, vi, method=\"REML\"); predict(transf=exp)",
    rma(yi, vi, data = dat, method = "REML"), ratio = TRUE)
one("bcg_rr_fe", "escalc(\"RR\", ...dat.bcg); rma(yi, vi, method=\"FE\"); predict(transf=exp)",
    rma(yi, vi, data = dat, method = "FE"), ratio = TRUE)
one("bcg_rr_dl_first6", "escalc(\"RR\", ...dat.bcg); rma(yi, vi, method=\"DL\", subset=1:6); predict(transf=exp)",
    rma(yi, vi, data = dat, method = "DL", subset = 1:6), ratio = TRUE)

dat <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
              n2i = n2i, data = dat.normand1999)
one("normand_md_dl", "escalc(\"MD\", ...dat.normand1999); rma(yi, vi, method=\"DL\")",
    rma(yi, vi, data = dat, method = "DL"))
one("normand_md_fe_first5", "escalc(\"MD\", ...dat.normand1999); rma(yi, vi, method=\"FE\", subset=1:5)",
    rma(yi, vi, data = dat, method = "FE", subset = 1:5))

dat <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
              n2i = n2i, data = dat.normand1999)
one("normand_smd_dl", "escalc(\"SMD\", ...dat.normand1999); rma(yi, vi, method=\"DL\")",
    rma(yi, vi, data = dat, method = "DL"))

dat <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.bcg |>
                transform(ai = tpos, n1i = tpos + tneg, ci = cpos, n2i = cpos + cneg))
one("bcg_or_dl", "escalc(\"OR\", ai=tpos, n1i=tpos+tneg, ci=cpos, n2i=cpos+cneg, data=dat.bcg); rma(yi, vi, method=\"DL\"); predict(transf=exp)",
    rma(yi, vi, data = dat, method = "DL"), ratio = TRUE)

dat <- escalc(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
for (k in c(2, 3, 4, 8, 10)) {
  one(sprintf("bcg_or_fe_first%d", k),
      sprintf("escalc(\"OR\", ...dat.bcg); rma(yi, vi, method=\"FE\", subset=1:%d); predict(transf=exp)", k),
      rma(yi, vi, data = dat, method = "FE", subset = 1:k), ratio = TRUE)
}

# moderate heterogeneity: dat.hackshaw1998 (log ORs of lung cancer and passive smoking)
for (k in c(3, 5, 7, 10, 20, 37)) {
  one(sprintf("hackshaw_or_fe_first%d", k),
      sprintf("rma(yi, vi, data=dat.hackshaw1998, method=\"FE\", subset=1:%d); predict(transf=exp)", k),
      rma(yi, vi, data = dat.hackshaw1998, method = "FE", subset = 1:k), ratio = TRUE)
}
one("hackshaw_or_dl", "rma(yi, vi, data=dat.hackshaw1998, method=\"DL\"); predict(transf=exp)",
    rma(yi, vi, data = dat.hackshaw1998, method = "DL"), ratio = TRUE)
dat <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
              n2i = n2i, data = dat.normand1999)
for (rows in list(c(1, 2, 3), c(1, 5, 8, 9), c(2, 3, 4, 6, 7))) {
  label <- paste(rows, collapse = "_")
  one(sprintf("normand_smd_fe_rows%s", label),
      sprintf("escalc(\"SMD\", ...dat.normand1999); rma(yi, vi, method=\"FE\", subset=c(%s))",
              paste(rows, collapse = ",")),
      rma(yi, vi, data = dat, method = "FE", subset = rows))
}

out <- list(
  generated_by = "tests/reference/audit_reference.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  cases = cases
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           "tests/reference/audit_reference.json")
