// Printable names of the layer attribute enums (as TensorRT spells the values).
#include "layerkit/network/layers.h"

namespace layerkit {

#define LK_NAME(v) \
  case E::v:       \
    return #v

std::string_view enum_name(ElementWiseOperation v) {
  using E = ElementWiseOperation;
  switch (v) {
    LK_NAME(kSUM);
    LK_NAME(kPROD);
    LK_NAME(kMAX);
    LK_NAME(kMIN);
    LK_NAME(kSUB);
    LK_NAME(kDIV);
    LK_NAME(kPOW);
    LK_NAME(kFLOOR_DIV);
    LK_NAME(kAND);
    LK_NAME(kOR);
    LK_NAME(kXOR);
    LK_NAME(kEQUAL);
    LK_NAME(kGREATER);
    LK_NAME(kLESS);
    LK_NAME(kBITWISE_AND);
    LK_NAME(kBITWISE_OR);
    LK_NAME(kBITWISE_XOR);
  }
  return "?";
}
std::string_view enum_name(UnaryOperation v) {
  using E = UnaryOperation;
  switch (v) {
    LK_NAME(kEXP);
    LK_NAME(kLOG);
    LK_NAME(kSQRT);
    LK_NAME(kRECIP);
    LK_NAME(kABS);
    LK_NAME(kNEG);
    LK_NAME(kSIN);
    LK_NAME(kCOS);
    LK_NAME(kTAN);
    LK_NAME(kSINH);
    LK_NAME(kCOSH);
    LK_NAME(kASIN);
    LK_NAME(kACOS);
    LK_NAME(kATAN);
    LK_NAME(kASINH);
    LK_NAME(kACOSH);
    LK_NAME(kATANH);
    LK_NAME(kCEIL);
    LK_NAME(kFLOOR);
    LK_NAME(kERF);
    LK_NAME(kNOT);
    LK_NAME(kSIGN);
    LK_NAME(kROUND);
    LK_NAME(kISINF);
    LK_NAME(kISNAN);
  }
  return "?";
}
std::string_view enum_name(ActivationType v) {
  using E = ActivationType;
  switch (v) {
    LK_NAME(kRELU);
    LK_NAME(kSIGMOID);
    LK_NAME(kTANH);
    LK_NAME(kLEAKY_RELU);
    LK_NAME(kELU);
    LK_NAME(kSELU);
    LK_NAME(kSOFTSIGN);
    LK_NAME(kSOFTPLUS);
    LK_NAME(kCLIP);
    LK_NAME(kHARD_SIGMOID);
    LK_NAME(kSCALED_TANH);
    LK_NAME(kTHRESHOLDED_RELU);
    LK_NAME(kGELU_ERF);
    LK_NAME(kGELU_TANH);
  }
  return "?";
}
std::string_view enum_name(SampleMode v) {
  using E = SampleMode;
  switch (v) {
    LK_NAME(kSTRICT_BOUNDS);
    LK_NAME(kWRAP);
    LK_NAME(kCLAMP);
    LK_NAME(kFILL);
    LK_NAME(kREFLECT);
  }
  return "?";
}
std::string_view enum_name(GatherMode v) {
  using E = GatherMode;
  switch (v) {
    LK_NAME(kDEFAULT);
    LK_NAME(kELEMENT);
    LK_NAME(kND);
  }
  return "?";
}
std::string_view enum_name(ScatterMode v) {
  using E = ScatterMode;
  switch (v) {
    LK_NAME(kELEMENT);
    LK_NAME(kND);
  }
  return "?";
}
std::string_view enum_name(ScatterReduction v) {
  using E = ScatterReduction;
  switch (v) {
    LK_NAME(kNONE);
    LK_NAME(kSUM);
    LK_NAME(kPROD);
    LK_NAME(kMAX);
    LK_NAME(kMIN);
  }
  return "?";
}
std::string_view enum_name(FillOperation v) {
  using E = FillOperation;
  switch (v) {
    LK_NAME(kLINSPACE);
    LK_NAME(kRANDOM_UNIFORM);
    LK_NAME(kRANDOM_NORMAL);
  }
  return "?";
}
std::string_view enum_name(MatrixOperation v) {
  using E = MatrixOperation;
  switch (v) {
    LK_NAME(kNONE);
    LK_NAME(kTRANSPOSE);
    LK_NAME(kVECTOR);
  }
  return "?";
}
std::string_view enum_name(PaddingMode v) {
  using E = PaddingMode;
  switch (v) {
    LK_NAME(kEXPLICIT_ROUND_DOWN);
    LK_NAME(kEXPLICIT_ROUND_UP);
    LK_NAME(kSAME_UPPER);
    LK_NAME(kSAME_LOWER);
  }
  return "?";
}
std::string_view enum_name(PoolingType v) {
  using E = PoolingType;
  switch (v) {
    LK_NAME(kMAX);
    LK_NAME(kAVERAGE);
    LK_NAME(kMAX_AVERAGE_BLEND);
  }
  return "?";
}
std::string_view enum_name(ReduceOperation v) {
  using E = ReduceOperation;
  switch (v) {
    LK_NAME(kSUM);
    LK_NAME(kPROD);
    LK_NAME(kMAX);
    LK_NAME(kMIN);
    LK_NAME(kAVG);
  }
  return "?";
}
std::string_view enum_name(TopKOperation v) {
  using E = TopKOperation;
  switch (v) {
    LK_NAME(kMAX);
    LK_NAME(kMIN);
  }
  return "?";
}
std::string_view enum_name(CumulativeOperation v) {
  using E = CumulativeOperation;
  switch (v) { LK_NAME(kSUM); }
  return "?";
}
std::string_view enum_name(InterpolationMode v) {
  using E = InterpolationMode;
  switch (v) {
    LK_NAME(kNEAREST);
    LK_NAME(kLINEAR);
    LK_NAME(kCUBIC);
  }
  return "?";
}
std::string_view enum_name(ResizeCoordinateTransformation v) {
  using E = ResizeCoordinateTransformation;
  switch (v) {
    LK_NAME(kALIGN_CORNERS);
    LK_NAME(kASYMMETRIC);
    LK_NAME(kHALF_PIXEL);
  }
  return "?";
}
std::string_view enum_name(ResizeSelector v) {
  using E = ResizeSelector;
  switch (v) {
    LK_NAME(kFORMULA);
    LK_NAME(kUPPER);
  }
  return "?";
}
std::string_view enum_name(ResizeRoundMode v) {
  using E = ResizeRoundMode;
  switch (v) {
    LK_NAME(kHALF_UP);
    LK_NAME(kHALF_DOWN);
    LK_NAME(kFLOOR);
    LK_NAME(kCEIL);
  }
  return "?";
}
std::string_view enum_name(ScaleMode v) {
  using E = ScaleMode;
  switch (v) {
    LK_NAME(kUNIFORM);
    LK_NAME(kCHANNEL);
    LK_NAME(kELEMENTWISE);
  }
  return "?";
}
std::string_view enum_name(CollectiveOperation v) {
  using E = CollectiveOperation;
  switch (v) {
    LK_NAME(kALL_GATHER);
    LK_NAME(kREDUCE_SCATTER);
    LK_NAME(kALL_REDUCE);
  }
  return "?";
}

#undef LK_NAME

}  // namespace layerkit
