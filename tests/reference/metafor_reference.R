#!/usr/bin/env Rscript
# Reference values for the mscreview statistics engine, computed with R metafor.
#
# Run from the repository root:  Rscript tests/reference/metafor_reference.R
# Writes tests/reference/metafor_reference.json (committed; the tests need no R).
# Each case records the exact metafor call(s), the input data and the expected values.
# Iterative estimators (REML, PM, Q-profile) run with tight control settings so that the
# Python engine can be compared at a stated tolerance; see the tests for the tolerance used.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

cases <- list()
tight <- list(threshold = 1e-10, maxiter = 10000, tol = 1e-12)

# Summary of an rma fit; I2 in RevMan's definition (Q - df)/Q computed from metafor's QE.
summ <- function(fit) {
  k <- fit$k
  out <- list(
    k = k, estimate = as.numeric(fit$b), se = fit$se, ci_low = fit$ci.lb, ci_high = fit$ci.ub,
    z = fit$zval, p = fit$pval, q = fit$QE, q_df = k - 1, q_p = fit$QEp,
    i2_revman = if (fit$QE > 0) 100 * max(0, (fit$QE - (k - 1)) / fit$QE) else 0,
    tau2 = fit$tau2
  )
  if (k >= 3 && !is.null(fit$tau2)) {
    # Higgins, Thompson & Spiegelhalter 2009: t with k-2 df (metafor's own PI uses z or k-1).
    half <- qt(0.975, k - 2) * sqrt(fit$tau2 + fit$se^2)
    out$pi_low <- as.numeric(fit$b) - half
    out$pi_high <- as.numeric(fit$b) + half
  }
  out
}

add_case <- function(name, data, calls, expected) {
  cases[[name]] <<- list(calls = calls, data = as.list(data), expected = expected)
}

# --- dat.normand1999: MD and SMD ---------------------------------------------------------
dn <- dat.normand1999
md <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
             data = dn)
smd <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
              n2i = n2i, data = dn)
data_n <- dn[, c("source", "n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")]
add_case("normand_md_fe", data_n,
  c('escalc(measure="MD", m1i, sd1i, n1i, m2i, sd2i, n2i, data=dat.normand1999)',
    'rma(yi, vi, method="FE")'),
  c(summ(rma(yi, vi, data = md, method = "FE")), list(yi = md$yi, vi = as.numeric(md$vi))))
add_case("normand_md_dl", data_n,
  c('escalc(measure="MD", ...)', 'rma(yi, vi, method="DL")'),
  c(summ(rma(yi, vi, data = md, method = "DL")),
    list(weights = as.numeric(weights(rma(yi, vi, data = md, method = "DL"))))))
fit <- rma(yi, vi, data = md, method = "REML", control = tight)
add_case("normand_md_reml", data_n,
  c('escalc(measure="MD", ...)', 'rma(yi, vi, method="REML", control=list(threshold=1e-10, maxiter=10000))'),
  summ(fit))
fit <- rma(yi, vi, data = smd, method = "DL")
add_case("normand_smd_exact_dl", data_n,
  c('escalc(measure="SMD", ...)  # exact J, vtype="LS"', 'rma(yi, vi, method="DL")'),
  c(summ(fit), list(yi = as.numeric(smd$yi), vi = as.numeric(smd$vi))))
l1o <- leave1out(rma(yi, vi, data = md, method = "DL"))
add_case("normand_md_dl_leave1out", data_n,
  c('escalc(measure="MD", ...)', 'leave1out(rma(yi, vi, method="DL"))'),
  list(estimate = l1o$estimate, se = l1o$se, tau2 = l1o$tau2, q = l1o$Q))

# --- dat.bcg: RR and OR, IV (DL, REML, PM), MH, Peto, subgroups, Egger, cumulative ----------
db <- dat.bcg
data_b <- db[, c("author", "year", "tpos", "tneg", "cpos", "cneg", "alloc")]
data_b$events1 <- db$tpos; data_b$n1 <- db$tpos + db$tneg
data_b$events2 <- db$cpos; data_b$n2 <- db$cpos + db$cneg
rr <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = db)
fit <- rma(yi, vi, data = rr, method = "DL")
add_case("bcg_rr_dl", data_b,
  c('escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)',
    'rma(yi, vi, method="DL")'),
  c(summ(fit), list(yi = as.numeric(rr$yi), vi = as.numeric(rr$vi))))
fit <- rma(yi, vi, data = rr, method = "REML", control = tight)
ci <- confint(fit, control = tight)
add_case("bcg_rr_reml", data_b,
  c('escalc(measure="RR", ...)', 'fit <- rma(yi, vi, method="REML", control=list(threshold=1e-10, maxiter=10000))',
    'confint(fit, control=list(tol=1e-12))  # Q-profile'),
  c(summ(fit), list(tau2_ci_low = ci$random["tau^2", "ci.lb"], tau2_ci_high = ci$random["tau^2", "ci.ub"],
                    i2_ci_low = ci$random["I^2(%)", "ci.lb"], i2_ci_high = ci$random["I^2(%)", "ci.ub"])))
fit <- rma(yi, vi, data = rr, method = "PM", control = tight)
add_case("bcg_rr_pm", data_b,
  c('escalc(measure="RR", ...)', 'rma(yi, vi, method="PM", control=list(tol=1e-12, maxiter=10000))'),
  summ(fit))
fit <- rma(yi, vi, data = rr, method = "FE")
add_case("bcg_rr_fe", data_b, c('escalc(measure="RR", ...)', 'rma(yi, vi, method="FE")'), summ(fit))
fit <- rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = db, measure = "RR")
add_case("bcg_rr_mh", data_b,
  c('rma.mh(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg, measure="RR")'),
  list(k = fit$k, estimate = as.numeric(fit$b), se = fit$se, z = fit$zval, p = fit$pval, q = fit$QE,
       q_p = fit$QEp, i2 = fit$I2))
fit <- rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = db, measure = "OR")
add_case("bcg_or_mh", data_b,
  c('rma.mh(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg, measure="OR")'),
  list(k = fit$k, estimate = as.numeric(fit$b), se = fit$se, z = fit$zval, p = fit$pval, q = fit$QE,
       q_p = fit$QEp, i2 = fit$I2))
fit <- rma.peto(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = db)
add_case("bcg_or_peto", data_b,
  c('rma.peto(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)'),
  list(k = fit$k, estimate = as.numeric(fit$b), se = fit$se, z = fit$zval, p = fit$pval, q = fit$QE,
       q_p = fit$QEp, i2 = fit$I2))
fe <- rma(yi, vi, data = rr, method = "FE")
eg <- regtest(fe, model = "lm", predictor = "sei")
add_case("bcg_rr_egger", data_b,
  c('escalc(measure="RR", ...)', 'regtest(rma(yi, vi, method="FE"), model="lm", predictor="sei")'),
  list(t = eg$zval, p = eg$pval, df = eg$dfs, intercept_egger = as.numeric(coef(eg$fit)["Xsei"])))
cu <- cumul(rma(yi, vi, data = rr, method = "DL"), order = db$year)
add_case("bcg_rr_dl_cumulative_year", data_b,
  c('escalc(measure="RR", ...)', 'cumul(rma(yi, vi, method="DL"), order=dat.bcg$year)'),
  list(estimate = cu$estimate, se = cu$se, tau2 = cu$tau2))

# Subgroups by allocation: each subgroup pooled on its own (DL), then the test for subgroup
# differences = fixed-effect Q over the subgroup estimates (RevMan 5).
groups <- unique(db$alloc)
subs <- lapply(groups, function(g) rma(yi, vi, data = rr, subset = alloc == g, method = "DL"))
est <- sapply(subs, function(f) as.numeric(f$b)); sei <- sapply(subs, function(f) f$se)
between <- rma(est, sei = sei, method = "FE")
add_case("bcg_rr_dl_subgroups_alloc", data_b,
  c('escalc(measure="RR", ...)',
    'for g in unique(alloc): rma(yi, vi, subset=alloc==g, method="DL")',
    'rma(estimates, sei=ses, method="FE")  # test for subgroup differences'),
  list(names = groups, subgroups = lapply(subs, summ),
       test = list(q = between$QE, df = between$k - 1, p = between$QEp,
                   i2 = if (between$QE > 0) 100 * max(0, (between$QE - (between$k - 1)) / between$QE) else 0)))

# --- dat.raudenbush1985: HKSJ and prediction interval ------------------------------------
dr <- dat.raudenbush1985
data_r <- dr[, c("author", "year", "yi", "vi")]
data_r$yi <- as.numeric(data_r$yi); data_r$vi <- as.numeric(data_r$vi)
fit <- rma(yi, vi, data = dr, method = "DL", test = "knha")
add_case("raudenbush_dl_hksj", data_r,
  c('rma(yi, vi, data=dat.raudenbush1985, method="DL", test="knha")'),
  c(summ(fit), list(test_df = fit$dfs)))
fit <- rma(yi, vi, data = dr, method = "REML", test = "knha", control = tight)
add_case("raudenbush_reml_hksj", data_r,
  c('rma(yi, vi, data=dat.raudenbush1985, method="REML", test="knha", control=list(threshold=1e-10))'),
  c(summ(fit), list(test_df = fit$dfs)))
fit <- rma(yi, vi, data = dr, method = "DL")
add_case("raudenbush_dl", data_r, c('rma(yi, vi, data=dat.raudenbush1985, method="DL")'), summ(fit))

# --- zero cells: RevMan 5 rule (0.5 to every cell of a study with a zero cell) ------------
dz <- data.frame(study = c("A", "B", "C", "D", "E"), events1 = c(0, 3, 0, 5, 2),
                 n1 = c(10, 12, 15, 20, 9), events2 = c(2, 0, 0, 8, 4), n2 = c(10, 12, 14, 21, 11))
for (m in c("RR", "OR", "RD")) {
  e <- escalc(measure = m, ai = events1, n1i = n1, ci = events2, n2i = n2, data = dz,
              add = 0.5, to = "only0", drop00 = (m != "RD"))
  add_case(paste0("zero_cells_", tolower(m)), dz,
    c(sprintf('escalc(measure="%s", ai=events1, n1i=n1, ci=events2, n2i=n2, add=0.5, to="only0", drop00=%s)',
              m, if (m != "RD") "TRUE" else "FALSE")),
    list(yi = as.numeric(e$yi), vi = as.numeric(e$vi)))
}

out <- list(
  generated_by = "tests/reference/metafor_reference.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  cases = cases
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           "tests/reference/metafor_reference.json")
