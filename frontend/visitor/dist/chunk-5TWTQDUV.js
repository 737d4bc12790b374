import{c as a,d as b,e as c,f as d}from"./chunk-KIURTVEH.js";import"./chunk-LNYNU5GB.js";export{a as QUIET_ERRORS,d as firstRequest,c as wantComeBack,b as wantDanger};
